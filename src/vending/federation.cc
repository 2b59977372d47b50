#include "vending/federation.h"

#include <boost/json.hpp>
#include <memory>

#include "protocol/v2.h"
#include "vending/identity_scope.h"

namespace vendo::server {
namespace {

V2Failure Failure(V2Code code, std::string message) { return V2Failure{code, std::move(message)}; }

oidc::TokenResult<oidc::VerifiedToken> Check(const FederatedProvider& provider,
                                             const FederateRequest& request,
                                             const std::shared_ptr<const oidc::JwkSet>& keys,
                                             std::chrono::system_clock::time_point now) {
  if (!keys) {
    return std::unexpected(oidc::TokenFailure{oidc::TokenReason::kProviderUnavailable,
                                              "no keys of the provider can be had"});
  }
  return oidc::VerifyIdToken(request.id_token, request.nonce, provider.rules, *keys, now);
}

V2Result<oidc::VerifiedToken> ToV2(oidc::TokenResult<oidc::VerifiedToken> checked) {
  if (!checked) {
    return std::unexpected(TokenFailureToV2(checked.error()));
  }
  return std::move(*checked);
}

}  // namespace

V2Result<FederateRequest> ParseFederateBody(std::string_view body) {
  auto bad = [] {
    return std::unexpected(Failure(
        V2Code::kInvalidRequest,
        R"(the body must be {"id_token": "...", "nonce": "..." (optional), "bind_device": true|false (optional)})"));
  };
  boost::system::error_code ec;
  auto doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) {
    return bad();
  }
  FederateRequest out;
  for (const auto& [key, value] : doc.get_object()) {
    if (key == "id_token" && value.is_string()) {
      out.id_token = std::string(value.get_string());
    } else if (key == "nonce" && value.is_string()) {
      out.nonce = std::string(value.get_string());
    } else if (key == "bind_device" && value.is_bool()) {
      out.bind_device = value.get_bool();
    } else {
      return bad();
    }
  }
  if (out.id_token.empty()) {
    return bad();
  }
  return out;
}

std::string FederatedUsername(std::string_view idp, std::string_view subject) {
  std::string name(idp);
  name.push_back(':');  // provider names hold no ':', so the first one splits
  name.append(subject);
  return name;
}

V2Failure TokenFailureToV2(const oidc::TokenFailure& failure) {
  if (failure.reason == oidc::TokenReason::kProviderUnavailable) {
    V2Failure f = Failure(V2Code::kProviderUnavailable,
                          "the identity provider cannot be reached and no keys of it are known");
    f.retry_after = 5;
    f.reason = oidc::TokenReasonName(failure.reason);
    return f;
  }
  V2Failure f = Failure(V2Code::kInvalidToken, "the ID token is not accepted");
  f.reason = oidc::TokenReasonName(failure.reason);
  return f;
}

void Federation::Verify(const App& app, const FederateRequest& request, Verified done) {
  std::string iss = oidc::UnverifiedIssuer(request.id_token);
  const FederatedProvider* provider = nullptr;
  for (const auto& p : app.providers) {
    if (!iss.empty() && p.rules.issuer == iss) {
      provider = &p;
    }
  }
  if (provider == nullptr) {
    // Not even a token of a known provider: the same answer as a wrong issuer, so a caller
    // learns nothing of which providers the app takes.
    auto header = oidc::ReadHeader(request.id_token, {});
    done(std::unexpected(
        TokenFailureToV2({header || header.error().reason != oidc::TokenReason::kMalformed
                              ? oidc::TokenReason::kWrongIssuer
                              : oidc::TokenReason::kMalformed,
                          "no provider of the app has this issuer"})));
    return;
  }
  const Clock& clock = clock_;
  provider->keys->Keys(false, [provider, &request, &clock, done = std::move(done)](
                                  const std::shared_ptr<const oidc::JwkSet>& keys) mutable {
    auto checked = Check(*provider, request, keys, clock.Now());
    if (checked || checked.error().reason != oidc::TokenReason::kUnknownKey) {
      done(ToV2(std::move(checked)));
      return;
    }
    // A key the set lacks: the provider may have rotated. Ask again (the key source allows
    // a refetch at most once per min_refetch), then check once more.
    provider->keys->Keys(true, [provider, &request, &clock, done = std::move(done)](
                                   const std::shared_ptr<const oidc::JwkSet>& fresh) {
      done(ToV2(Check(*provider, request, fresh, clock.Now())));
    });
  });
}

V2Result<FederatedGrant> Federation::Grant(const App& app, const oidc::VerifiedToken& token,
                                           Undo* undo) {
  FederatedGrant out;
  out.username = FederatedUsername(token.idp, token.subject);
  auto user = store_.FindUser(app.config.name, out.username);
  if (!user && user.error().code == ErrorCode::kNotFound) {
    std::string user_id = random_.Hex(16);
    // No password: a federated identity signs in only with its provider's tokens.
    auto created = store_.CreateUser(app.config.name, out.username, user_id, SecretString(""));
    if (created) {
      out.new_identity = true;
      if (undo != nullptr) {
        *undo = [this, &app, username = out.username] {
          return store_.DeleteUser(app.config.name, username);
        };
      }
    } else if (created.error().code != ErrorCode::kAlreadyExists) {
      return std::unexpected(V2FailureOf(created.error()));
    }
    user = store_.FindUser(app.config.name, out.username);  // made now, or by a racing request
  }
  if (!user) {
    return std::unexpected(V2FailureOf(user.error()));
  }
  return Finish(app, token, *user, std::move(out));
}

V2Result<V2Registration> Federation::BindDevice(const App& app, const FederatedGrant& grant,
                                                const oidc::VerifiedToken& token, Undo* undo) {
  SecretString claims(EncodeClaims(UsedClaims(app, {token.idp, token.claims, token.lists})));
  for (int attempt = 0; attempt < 3; ++attempt) {  // a new id taken already: another one
    std::string id = NewDeviceId(random_);
    std::string secret = protocol::v2::Base64UrlEncode(random_.Bytes(protocol::v2::kSecretBytes));
    auto created =
        store_.CreateBoundDevice(app.config.name, id, grant.user_id, SecretString(secret), claims);
    if (created) {
      if (undo != nullptr) {
        *undo = DeleteDeviceUndo(store_, app, id);
      }
      return V2Registration{std::move(id), std::move(secret)};
    }
    if (created.error().code != ErrorCode::kAlreadyExists) {
      return std::unexpected(V2FailureOf(created.error()));
    }
  }
  return std::unexpected(Failure(V2Code::kInternalError, "internal error"));
}

std::optional<V2Result<FederatedGrant>> Federation::GrantFromMemory(
    const App& app, const oidc::VerifiedToken& token, store::Store& memory) {
  FederatedGrant out;
  out.username = FederatedUsername(token.idp, token.subject);
  auto user = memory.FindUser(app.config.name, out.username);
  if (!user) {
    return std::nullopt;  // not in memory (or new): where blocking is allowed, Grant
  }
  return Finish(app, token, *user, std::move(out));
}

V2Result<FederatedGrant> Federation::Finish(const App& app, const oidc::VerifiedToken& token,
                                            const store::UserRecord& user, FederatedGrant out) {
  if (!user.enabled) {
    return std::unexpected(Failure(V2Code::kUserDisabled, "this identity is disabled"));
  }
  out.user_id = user.user_id;
  auto scope =
      RenderIdentityScope(app, {token.idp, token.claims, token.lists}, out.username, out.user_id);
  if (!scope) {
    if (scope.error().reason == ErrorReason::kClaimNotUsable) {
      // A claim the policy or a tag needs is missing or could widen it: refused, never widened.
      V2Failure f = Failure(V2Code::kInvalidToken, "the ID token's claims do not fit the policy");
      f.reason = "claim_not_usable";
      return std::unexpected(f);
    }
    return std::unexpected(V2Failure{V2Code::kInternalError, "internal error"});
  }
  issuer::IssueRequest& req = out.request;
  req.app = app.config.name;
  req.device_id = out.user_id;  // the principal the credential cache and its single flight key on
  req.username = out.username;
  req.duration = app.config.duration;
  req.session_name = std::move(scope->session_name);
  req.policy = std::move(scope->policy);
  req.policy_sha256 = std::move(scope->policy_sha256);
  req.session_tags = std::move(scope->session_tags);
  req.role_arn = std::move(scope->role_arn);
  return out;
}

}  // namespace vendo::server
