#include "vending/v2_service.h"

#include <boost/json.hpp>

#include "crypto/hmac.h"
#include "crypto/password.h"
#include "protocol/timestamp.h"
#include "protocol/v2.h"
#include "protocol/validate.h"
#include "vending/grant.h"
#include "vending/limits.h"

namespace vendo::server {
namespace {

namespace v2 = protocol::v2;

V2Failure Failure(V2Code code, std::string message) { return V2Failure{code, std::move(message)}; }

V2Failure Busy() {
  return V2Failure{V2Code::kServerBusy, "too many sign-ups and logins at once; retry shortly", 0,
                   1};
}

}  // namespace

std::string_view V2CodeName(V2Code code) {
  switch (code) {
    case V2Code::kInvalidRequest:
      return "invalid_request";
    case V2Code::kInvalidSignature:
      return "invalid_signature";
    case V2Code::kInvalidCredentials:
      return "invalid_credentials";
    case V2Code::kUsernameTaken:
      return "username_taken";
    case V2Code::kExpiredTimestamp:
      return "expired_timestamp";
    case V2Code::kReplayedRequest:
      return "replayed_request";
    case V2Code::kDeviceRevoked:
      return "device_revoked";
    case V2Code::kUserDisabled:
      return "user_disabled";
    case V2Code::kNotFound:
      return "not_found";
    case V2Code::kWrongMode:
      return "wrong_mode";
    case V2Code::kRateLimited:
      return "rate_limited";
    case V2Code::kInternalError:
      return "internal_error";
    case V2Code::kIssuerUnavailable:
      return "issuer_unavailable";
    case V2Code::kUnsupportedMediaType:
      return "unsupported_media_type";
    case V2Code::kForbiddenOrigin:
      return "forbidden_origin";
    case V2Code::kServerBusy:
      return "server_busy";
    case V2Code::kInvalidToken:
      return "invalid_token";
    case V2Code::kProviderUnavailable:
      return "provider_unavailable";
  }
  return "internal_error";
}

V2Failure V2FailureOf(const Error& e) {
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kDeadlineExceeded) {
    return V2Failure{V2Code::kIssuerUnavailable, "the service is unavailable", 0, 5};
  }
  return Failure(V2Code::kInternalError, "internal error");
}

V2Failure V2LimitFailure(const Error& error, std::string message) {
  if (error.code != ErrorCode::kResourceExhausted) {
    return V2FailureOf(error);  // the store that counts is down: not the client's doing
  }
  return V2Failure{V2Code::kRateLimited, std::move(message), 0, error.retry_after.count()};
}

V2Failure V2VendFailure(const VendFailure& failure) {
  switch (failure.step) {
    case VendStep::kLimit:
      return V2LimitFailure(failure.error, "too many token requests");
    case VendStep::kIssue:
      return V2Failure{V2Code::kIssuerUnavailable, "credentials cannot be had right now", 0, 5};
    case VendStep::kSeal:
    case VendStep::kAudit:
      break;
  }
  return V2Failure{V2Code::kInternalError, "internal error"};
}

std::string NewDeviceId(Random& random) {
  static constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  auto bytes = random.Bytes(16);
  std::string id = "d_";
  unsigned buffer = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      id.push_back(kCrockford[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  id.push_back(kCrockford[(buffer << (5 - bits)) & 31]);  // the last 3 bits, padded
  return id;
}

V2Result<V2Registration> V2Service::RegisterDevice(const App& app, Undo* undo) {
  if (app.config.mode != protocol::legacy::Mode::kAnonymous) {
    return std::unexpected(Failure(V2Code::kWrongMode, "this app registers users, not devices"));
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string id = NewDeviceId(random_);
    auto secret = random_.Bytes(v2::kSecretBytes);
    std::string encoded = v2::Base64UrlEncode(secret);
    auto created = store_.CreateDevice(app.config.name, id, SecretString(encoded));
    if (created) {
      if (undo != nullptr) {
        *undo = DeleteDeviceUndo(store_, app, id);
      }
      return V2Registration{id, encoded};
    }
    if (created.error().code != ErrorCode::kAlreadyExists) {
      return std::unexpected(V2FailureOf(created.error()));
    }
  }
  return std::unexpected(Failure(V2Code::kInternalError, "internal error"));
}

namespace {

// {"username": "...", "password": "..."}: usernames as on the 2012 registration page,
// passwords 8 to 1024 bytes of UTF-8 (docs/protocol-v2.md).
V2Result<std::pair<std::string, std::string>> UserAndPassword(std::string_view body) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(body, ec);
  const auto* obj = ec ? nullptr : doc.if_object();
  const auto* user = obj != nullptr ? obj->if_contains("username") : nullptr;
  const auto* pass = obj != nullptr ? obj->if_contains("password") : nullptr;
  if (user == nullptr || pass == nullptr || !user->is_string() || !pass->is_string()) {
    return std::unexpected(
        Failure(V2Code::kInvalidRequest, R"(the body must be {"username": ..., "password": ...})"));
  }
  std::string username(user->as_string()), password(pass->as_string());
  if (!protocol::IsValidUsername(username)) {
    return std::unexpected(Failure(V2Code::kInvalidRequest,
                                   "usernames are " + std::string(protocol::kUsernameRule.hint)));
  }
  if (!protocol::IsValidV2Password(password)) {
    return std::unexpected(
        Failure(V2Code::kInvalidRequest,
                "passwords are " + std::string(protocol::kV2PasswordRule.hint) + " of UTF-8"));
  }
  return std::pair{std::move(username), std::move(password)};
}

}  // namespace

V2Result<std::string> V2Service::SignUp(const App& app, std::string_view body, Undo* undo) {
  if (app.config.mode != protocol::legacy::Mode::kIdentity) {
    return std::unexpected(Failure(V2Code::kWrongMode, "this app registers devices, not users"));
  }
  auto creds = UserAndPassword(body);
  if (!creds) {
    return std::unexpected(creds.error());
  }
  auto slot = hashing_.TryAcquire();
  if (!slot) {
    OPENSSL_cleanse(creds->second.data(), creds->second.size());
    return std::unexpected(Busy());
  }
  auto hash = crypto::HashPassword(creds->second, app.config.argon2, random_);
  OPENSSL_cleanse(creds->second.data(), creds->second.size());
  if (!hash) {
    return std::unexpected(V2FailureOf(hash.error()));
  }
  std::string user_id = random_.Hex(16);
  auto created = store_.CreateUser(app.config.name, creds->first, user_id, SecretString(*hash));
  if (!created) {
    if (created.error().code == ErrorCode::kAlreadyExists) {
      return std::unexpected(Failure(V2Code::kUsernameTaken, "that username is taken"));
    }
    return std::unexpected(V2FailureOf(created.error()));
  }
  if (undo != nullptr) {
    *undo = [this, app_name = app.config.name, username = std::move(creds->first)] {
      return store_.DeleteUser(app_name, username);
    };
  }
  return user_id;
}

V2Result<V2Login> V2Service::Login(const App& app, std::string_view body, std::string& username_out,
                                   const std::function<Status(std::string_view username)>& allowed,
                                   Undo* undo) {
  if (app.config.mode != protocol::legacy::Mode::kIdentity) {
    return std::unexpected(Failure(V2Code::kWrongMode, "this app registers devices, not users"));
  }
  auto creds = UserAndPassword(body);
  if (!creds) {
    return std::unexpected(creds.error());
  }
  username_out = creds->first;
  if (auto ok = allowed(creds->first); !ok) {
    OPENSSL_cleanse(creds->second.data(), creds->second.size());
    return std::unexpected(V2LimitFailure(ok.error(), "too many failed logins"));
  }
  auto user = store_.FindUser(app.config.name, creds->first);
  if (!user && user.error().code != ErrorCode::kNotFound) {
    OPENSSL_cleanse(creds->second.data(), creds->second.size());
    return std::unexpected(V2FailureOf(user.error()));
  }
  auto slot = hashing_.TryAcquire();
  if (!slot) {
    OPENSSL_cleanse(creds->second.data(), creds->second.size());
    return std::unexpected(Busy());
  }
  // An unknown username costs one argon2id verification too (App::decoy_password_hash).
  std::string decoy;
  if (!user && app.decoy_password_hash.empty()) {
    decoy = crypto::HashPassword(random_.Hex(16), app.config.argon2, random_).value_or("");
  }
  std::string_view against = user ? std::string_view(user->password_hash.Reveal())
                             : !app.decoy_password_hash.empty()
                                 ? std::string_view(app.decoy_password_hash)
                                 : std::string_view(decoy);
  bool matched = crypto::VerifyPassword(against, creds->second);
  bool ok = user && matched;
  OPENSSL_cleanse(creds->second.data(), creds->second.size());
  if (!ok) {
    return std::unexpected(Failure(V2Code::kInvalidCredentials, "wrong username or password"));
  }
  if (!user->enabled) {
    return std::unexpected(Failure(V2Code::kUserDisabled, "this user is disabled"));
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string id = NewDeviceId(random_);
    std::string secret = v2::Base64UrlEncode(random_.Bytes(v2::kSecretBytes));
    auto bound = store_.BindDevice(app.config.name, id, user->user_id, SecretString(secret));
    if (bound) {
      if (undo != nullptr) {
        *undo = DeleteDeviceUndo(store_, app, id);
      }
      return V2Login{id, secret, user->user_id};
    }
    if (bound.error().code != ErrorCode::kFailedPrecondition) {
      return std::unexpected(V2FailureOf(bound.error()));
    }
  }
  return std::unexpected(Failure(V2Code::kInternalError, "internal error"));
}

V2Result<V2Service::Verified> V2Service::Verify(const App& app, std::string_view method,
                                                std::string_view path, std::string_view body,
                                                std::string_view authorization) {
  auto bad_signature = [] {
    return std::unexpected(
        Failure(V2Code::kInvalidSignature, "the request's signature does not verify"));
  };
  auto auth = v2::ParseAuthorization(authorization);
  if (!auth) {
    return std::unexpected(Failure(V2Code::kInvalidSignature,
                                   "Authorization must be VENDO-HMAC-SHA256 Device=...,"
                                   "Timestamp=...,Nonce=...,Signature=..."));
  }
  auto when = protocol::ParseLegacyTimestamp(auth->timestamp);
  if (!when) {
    return std::unexpected(
        Failure(V2Code::kInvalidRequest, "Timestamp must be like 2026-11-24T08:47:27Z"));
  }
  // The app's own window when it is shorter (timestamp_window_seconds), and the nonce is kept
  // for both sides of it: a request a second later than that is refused by its timestamp.
  const std::chrono::seconds window = std::min(window_, app.config.timestamp_window);
  auto skew = std::chrono::duration_cast<std::chrono::seconds>(*when - clock_.Now());
  if (skew > window || -skew > window) {
    V2Failure f = Failure(V2Code::kExpiredTimestamp,
                          "the request's timestamp is too far from the server's clock");
    f.skew_seconds = skew.count();
    return std::unexpected(f);
  }
  auto nonce = v2::Base64UrlDecode(auth->nonce);
  if (!nonce || nonce->size() != v2::kNonceBytes) {
    return std::unexpected(Failure(V2Code::kInvalidRequest, "Nonce must be 16 bytes, base64url"));
  }
  auto device = store_.FindDevice(app.config.name, auth->device_id);
  if (!device) {
    if (device.error().code == ErrorCode::kNotFound) {
      return bad_signature();  // unknown and wrong look the same
    }
    return std::unexpected(V2FailureOf(device.error()));
  }
  auto secret = v2::Base64UrlDecode(device->key.Reveal());
  if (!secret || secret->size() != v2::kSecretBytes) {
    return bad_signature();  // a 2012 device: it has no v2 secret
  }
  std::string expected = v2::Signature(
      *secret,
      v2::CanonicalRequest(method, path, body, auth->timestamp, auth->nonce, auth->device_id));
  if (!crypto::ConstantTimeEquals(expected, auth->signature)) {
    return bad_signature();
  }
  // Single use within the window, on every host: the nonce is counted in the store.
  auto seen = store_.CountEvent(
      "nonce:" + app.config.name + ":" + auth->device_id + ":" + auth->nonce, 2 * window);
  if (!seen) {
    return std::unexpected(V2FailureOf(seen.error()));
  }
  if (seen->count > 1) {
    return std::unexpected(Failure(V2Code::kReplayedRequest, "this nonce was already used"));
  }
  return Verified{std::move(*device), std::move(*secret), auth->nonce};
}

V2Result<V2Grant> V2Service::AuthorizeToken(const App& app, std::string_view method,
                                            std::string_view path, std::string_view body,
                                            std::string_view authorization) {
  auto verified = Verify(app, method, path, body, authorization);
  if (!verified) {
    return std::unexpected(verified.error());
  }
  auto& device = verified->device;
  auto& secret = verified->secret;
  auto seal = v2::ParseTokenBody(body);
  if (!seal) {
    return std::unexpected(Failure(V2Code::kInvalidRequest, seal.error().message));
  }
  auto request = GrantFor(app, device, store_, clock_);
  if (!request) {
    if (request.error().code == ErrorCode::kPermissionDenied) {
      ErrorReason why = request.error().reason;
      bool user = why == ErrorReason::kNoUser || why == ErrorReason::kUserGone ||
                  why == ErrorReason::kUserDisabled;
      if (why == ErrorReason::kClaimNotUsable) {
        // A federated device whose kept claims the app's policy no longer takes (the template
        // changed): this device is done; a new token binds a new one.
        return std::unexpected(Failure(V2Code::kDeviceRevoked,
                                       "the claims this device was bound under no longer fit the "
                                       "app's policy: federate again to bind a new device"));
      }
      return std::unexpected(
          Failure(user ? V2Code::kUserDisabled : V2Code::kDeviceRevoked, request.error().message));
    }
    return std::unexpected(V2FailureOf(request.error()));
  }
  std::string device_id = request->device_id;
  return V2Grant{std::move(*request),
                 V2SealKey{SecretString(std::string(secret.begin(), secret.end())),
                           std::move(device_id), verified->nonce, *seal}};
}

V2Result<V2Registration> V2Service::RotateSecret(const App& app, std::string_view method,
                                                 std::string_view path, std::string_view body,
                                                 std::string_view authorization, Undo* undo) {
  auto verified = Verify(app, method, path, body, authorization);
  if (!verified) {
    return std::unexpected(verified.error());
  }
  if (verified->device.revoked) {
    return std::unexpected(Failure(V2Code::kDeviceRevoked, "the device is revoked"));
  }
  std::string secret = v2::Base64UrlEncode(random_.Bytes(v2::kSecretBytes));
  auto set = store_.SetDeviceKey(app.config.name, verified->device.uid, SecretString(secret));
  if (!set) {
    return std::unexpected(set.error().code == ErrorCode::kNotFound
                               ? Failure(V2Code::kDeviceRevoked, "the device is revoked")
                               : V2FailureOf(set.error()));
  }
  if (undo != nullptr) {
    *undo = [this, app_name = app.config.name, uid = verified->device.uid,
             old = std::make_shared<SecretString>(std::move(verified->device.key))] {
      return store_.SetDeviceKey(app_name, uid, *old);
    };
  }
  return V2Registration{verified->device.uid, secret};
}

V2Result<std::string> V2Service::RevokeSelf(
    const App& app, std::string_view method, std::string_view path, std::string_view body,
    std::string_view authorization,
    const std::function<Status(std::string_view device_id)>& before_commit) {
  auto verified = Verify(app, method, path, body, authorization);
  if (!verified) {
    return std::unexpected(verified.error());
  }
  if (auto go = before_commit(verified->device.uid); !go) {
    // The gate is the audit line: its failure is the host's, not a busy store's (a 500, as
    // for every other change whose line cannot be written).
    return std::unexpected(Failure(V2Code::kInternalError, "internal error"));
  }
  auto revoked = store_.RevokeDevice(app.config.name, verified->device.uid);
  if (!revoked) {
    return std::unexpected(V2FailureOf(revoked.error()));
  }
  return verified->device.uid;
}

std::string V2Service::ServerTime() const { return protocol::IsoSeconds(clock_.Now()); }

V2Result<std::string> V2Service::CredentialsBody(const V2SealKey& key, const Credentials& creds,
                                                 std::string_view region,
                                                 const V2Registration* bound) {
  boost::json::object answer{{"AccessKeyId", creds.access_key_id},
                             {"SecretAccessKey", creds.secret_access_key},
                             {"SessionToken", creds.session_token},
                             {"Expiration", protocol::IsoSeconds(creds.expiration)},
                             {"Region", region}};
  if (bound != nullptr) {
    answer["device_id"] = bound->device_id;
    answer["device_secret"] = bound->device_secret;
  }
  std::string json = boost::json::serialize(answer);
  if (!key.seal) {
    return json;
  }
  auto iv = random_.Bytes(12);
  std::string_view secret = key.secret.Reveal();
  auto sealed = v2::Seal(AsBytes(secret), key.device_id, key.nonce, iv, json);
  OPENSSL_cleanse(json.data(), json.size());
  if (!sealed) {
    return std::unexpected(Failure(V2Code::kInternalError, "internal error"));
  }
  return boost::json::serialize(
      boost::json::object{{"alg", "A256GCM-HKDF-SHA256"}, {"sealed", *sealed}});
}

Undo DeleteDeviceUndo(store::Store& store, const App& app, std::string id) {
  return [&store, app_name = app.config.name, id = std::move(id)] {
    return store.DeleteDevice(app_name, id);
  };
}

}  // namespace vendo::server
