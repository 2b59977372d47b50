// The 2012 protocol's use cases, free of HTTP: each takes the app and the request parameters
// and returns a value or an Error whose code legacy_routes maps to the 2012 status and body.
//
//   kInvalidArgument -> 400 null          kStaleRequest      -> 408 Timestamp not valid
//   kUnauthenticated -> 401               kAlreadyExists     -> 409 (406 for /registeruser)
//   anything else    -> 500 Server Error
//
// Thread-safe. Calls block on the store.
#pragma once

#include "common/clock.h"
#include "common/random.h"
#include "issuer/issuer.h"
#include "protocol/form.h"
#include "store/store.h"
#include "vending/app.h"
#include "vending/undo.h"

namespace vendo::server {

using protocol::Params;

struct TokenGrant {
  issuer::IssueRequest request;
  SecretString device_key;  // wraps the response
};

class LegacyService {
 public:
  LegacyService(store::Store& store, const Clock& clock, Random& random)
      : store_(store), clock_(clock), random_(random) {}

  // /registerdevice (anonymous): uid and key. On success `undo` deletes the device again.
  [[nodiscard]] Status RegisterDevice(const App& app, const Params& params, Undo* undo = nullptr);
  // /gettoken, first half: checks the request and says what to ask the issuer for.
  [[nodiscard]] Result<TokenGrant> AuthorizeToken(const App& app, const Params& params) {
    return AuthorizeToken(app, params, store_);
  }
  // The same, reading devices and users from `reads` (a memory-only view on a network
  // thread: kWouldBlock then means "ask again off this thread").
  [[nodiscard]] Result<TokenGrant> AuthorizeToken(const App& app, const Params& params,
                                                  store::Store& reads);
  // /gettoken, second half: the token body wrapped under the device key (no CRLF).
  [[nodiscard]] Result<std::string> SealToken(const SecretString& device_key,
                                              const Credentials& creds);
  // /login (identity): rotates the device key and returns it wrapped (no CRLF). On success
  // `undo` puts the device back as it was (its old key, or no device).
  [[nodiscard]] Result<std::string> Login(const App& app, const Params& params,
                                          Undo* undo = nullptr);
  // /registeruser (identity). Missing parameters are reported by MissingUserParams first.
  // On success `undo` deletes the user again.
  [[nodiscard]] Status RegisterUser(const App& app, const Params& params, Undo* undo = nullptr);
  static bool MissingUserParams(const Params& params);

 private:
  [[nodiscard]] Status CheckTimestamp(const App& app, std::string_view timestamp) const;
  [[nodiscard]] Result<std::string> WrapWithFreshIv(std::string_view plaintext,
                                                    std::string_view key_hex);

  store::Store& store_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace vendo::server
