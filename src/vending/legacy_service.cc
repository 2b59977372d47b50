#include "vending/legacy_service.h"

#include <openssl/crypto.h>

#include <array>

#include "common/log.h"
#include "crypto/aes.h"
#include "issuer/session_name.h"
#include "protocol/legacy.h"
#include "protocol/timestamp.h"
#include "protocol/validate.h"
#include "vending/grant.h"

namespace vendo::server {
namespace {

using protocol::legacy::Mode;

Error Missing() { return Error{ErrorCode::kInvalidArgument, "missing parameter"}; }
Error BadSignature() { return Error{ErrorCode::kUnauthenticated, "signature does not match"}; }

// Reads the named parameters in the 2012 order; fails on the first missing one, or on one
// longer than any legitimate value. The values are views into `params`.
template <std::size_t N>
Result<std::array<std::string_view, N>> RequireAll(const Params& params,
                                                   const std::array<std::string_view, N>& names) {
  std::array<std::string_view, N> out;
  for (std::size_t i = 0; i < N; ++i) {
    auto v = params.Required(names[i]);
    if (!v) {
      return std::unexpected(Missing());
    }
    if (v->size() > protocol::kMaxParamBytes) {
      return Fail(ErrorCode::kInvalidArgument, "parameter too long");
    }
    out[i] = *v;
  }
  return out;
}

}  // namespace

Status LegacyService::CheckTimestamp(const App& app, std::string_view timestamp) const {
  auto t = protocol::ParseLegacyTimestamp(timestamp);
  if (!t || !protocol::WithinWindow(*t, clock_.Now(), app.config.timestamp_window)) {
    return Fail(ErrorCode::kStaleRequest, "timestamp not valid");
  }
  return {};
}

Result<std::string> LegacyService::WrapWithFreshIv(std::string_view plaintext,
                                                   std::string_view key_hex) {
  std::array<std::uint8_t, crypto::kAesBlock> iv{};
  random_.Fill(iv);
  return protocol::legacy::Wrap(plaintext, key_hex, iv);
}

Status LegacyService::RegisterDevice(const App& app, const Params& params, Undo* undo) {
  auto p = RequireAll<2>(params, {"uid", "key"});
  if (!p) {
    return std::unexpected(p.error());
  }
  auto& [uid, key] = *p;
  if (!protocol::IsValidUid(uid)) {
    return Fail(ErrorCode::kInvalidArgument,
                "uid must be 24-128 characters: " + std::string(protocol::kUidCharsRule));
  }
  // The 2012 server accepted any key of 24+ characters and then failed every /gettoken with
  // 500; vendo refuses a key that cannot work as an AES key up front.
  if (!protocol::legacy::IsUsableAesKey(key)) {
    return Fail(ErrorCode::kInvalidArgument, "key must be 32, 48 or 64 hex characters");
  }
  VENDO_RETURN_IF_ERROR(store_.CreateDevice(app.config.name, uid, SecretString(std::string(key))));
  if (undo != nullptr) {
    *undo = [this, app_name = app.config.name, uid = std::string(uid)] {
      return store_.DeleteDevice(app_name, uid);
    };
  }
  return {};
}

Result<TokenGrant> LegacyService::AuthorizeToken(const App& app, const Params& params,
                                                 store::Store& reads) {
  auto p = RequireAll<3>(params, {"uid", "signature", "timestamp"});
  if (!p) {
    return std::unexpected(p.error());
  }
  auto& [uid, signature, timestamp] = *p;
  VENDO_RETURN_IF_ERROR(CheckTimestamp(app, timestamp));
  auto device = reads.FindDevice(app.config.name, uid);
  if (!device) {
    if (device.error().code == ErrorCode::kNotFound) {
      return std::unexpected(BadSignature());
    }
    return std::unexpected(device.error());
  }
  if (!protocol::legacy::VerifySignature(app.config.mode, device->key.Reveal(), timestamp,
                                         signature)) {
    return std::unexpected(BadSignature());
  }
  // A device registered through v2 holds a secret that is no AES key: it may sign, but its
  // answer could never be sealed, so it is refused before anything is issued.
  if (app.config.mode == Mode::kAnonymous &&
      !protocol::legacy::IsUsableAesKey(device->key.Reveal())) {
    return Fail(ErrorCode::kUnauthenticated, "the device was registered through v2; use v2");
  }
  // The 2012 clients handle 401 for every refusal of a known device (revoked, too old, user
  // disabled or deleted): they fail again later, as they should.
  SecretString key = std::move(device->key);
  auto request = GrantFor(app, *device, reads, clock_);
  if (!request) {
    if (request.error().code == ErrorCode::kPermissionDenied) {
      return Fail(ErrorCode::kUnauthenticated, request.error().message);
    }
    return std::unexpected(request.error());
  }
  return TokenGrant{std::move(*request), std::move(key)};
}

Result<std::string> LegacyService::SealToken(const SecretString& device_key,
                                             const Credentials& creds) {
  std::string plaintext = protocol::legacy::TokenPlaintext(creds);
  auto body = WrapWithFreshIv(plaintext, device_key.Reveal());
  OPENSSL_cleanse(plaintext.data(), plaintext.size());
  return body;
}

Result<std::string> LegacyService::Login(const App& app, const Params& params, Undo* undo) {
  auto p = RequireAll<4>(params, {"username", "timestamp", "signature", "uid"});
  if (!p) {
    return std::unexpected(p.error());
  }
  auto& [username, timestamp, signature, uid] = *p;
  VENDO_RETURN_IF_ERROR(CheckTimestamp(app, timestamp));
  if (!protocol::IsValidIdentityUid(uid)) {
    return Fail(ErrorCode::kInvalidArgument,
                "uid must be 1-128 characters: " + std::string(protocol::kUidCharsRule));
  }
  auto user = store_.FindUser(app.config.name, username);
  if (!user) {
    if (user.error().code == ErrorCode::kNotFound) {
      // The same HMAC a known user costs, so the answer's timing does not say who exists.
      static const std::string kDecoy(64, '0');
      (void)protocol::legacy::VerifySignature(Mode::kIdentity, kDecoy, timestamp, signature);
      return std::unexpected(BadSignature());
    }
    return std::unexpected(user.error());
  }
  if (!user->enabled || !protocol::legacy::VerifySignature(
                            Mode::kIdentity, user->password_hash.Reveal(), timestamp, signature)) {
    return std::unexpected(BadSignature());
  }
  // Each login is accepted once: a captured login URL replayed within the window would rotate
  // the phone's key and lock the real phone out. Stock clients sign every login with a fresh
  // timestamp; the store shares the record with every host.
  auto seen = store_.CountEvent("login-once:" + app.config.name + ":" + std::string(uid) + ":" +
                                    std::string(timestamp) + ":" + std::string(signature),
                                2 * app.config.timestamp_window);
  if (!seen) {
    return std::unexpected(seen.error());
  }
  if (seen->count > 1) {
    return Fail(ErrorCode::kUnauthenticated, "login replayed");
  }
  // What the device was before, to put it back if this login must be taken back.
  auto before = store_.FindDevice(app.config.name, uid);
  if (!before && before.error().code != ErrorCode::kNotFound) {
    return std::unexpected(before.error());
  }
  SecretString new_key(random_.Hex(16));
  // A uid bound to another user fails with kFailedPrecondition: 500, as in 2012.
  VENDO_RETURN_IF_ERROR(store_.BindDevice(app.config.name, uid, user->user_id, new_key));
  if (before) {
    if (undo != nullptr) {
      *undo = [this, app_name = app.config.name, uid = std::string(uid), user_id = user->user_id,
               key = std::make_shared<SecretString>(std::move(before->key))] {
        return store_.BindDevice(app_name, uid, user_id, *key);
      };
    }
  } else {
    if (undo != nullptr) {
      *undo = [this, app_name = app.config.name, uid = std::string(uid)] {
        return store_.DeleteDevice(app_name, uid);
      };
    }
  }
  std::string plaintext = protocol::legacy::KeyPlaintext(new_key.Reveal());
  auto body =
      WrapWithFreshIv(plaintext, protocol::legacy::LoginWrapKey(user->password_hash.Reveal()));
  OPENSSL_cleanse(plaintext.data(), plaintext.size());
  return body;
}

bool LegacyService::MissingUserParams(const Params& params) {
  return !params.Required("username") || !params.Required("password");
}

Status LegacyService::RegisterUser(const App& app, const Params& params, Undo* undo) {
  auto p = RequireAll<2>(params, {"username", "password"});
  if (!p) {
    return std::unexpected(p.error());
  }
  auto& [username, password] = *p;
  if (!protocol::IsValidUsername(username) || !protocol::IsValidPassword(password)) {
    return Fail(ErrorCode::kInvalidArgument,
                "username: " + std::string(protocol::kUsernameRule.hint) +
                    "; password: " + std::string(protocol::kLegacyPasswordRule.hint));
  }
  SecretString hash(protocol::legacy::SaltedPasswordHash(password, username, app.config.app_name,
                                                         app.salt_endpoint));
  VENDO_RETURN_IF_ERROR(store_.CreateUser(app.config.name, username, random_.Hex(16), hash));
  if (undo != nullptr) {
    *undo = [this, app_name = app.config.name, username = std::string(username)] {
      return store_.DeleteUser(app_name, username);
    };
  }
  return {};
}

}  // namespace vendo::server
