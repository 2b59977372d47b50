// Protocol v2 request headers and sealed values, as any client (or attacker) may send them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/v2.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vendo::protocol::v2;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto auth = ParseAuthorization(in);
  if (auth) {
    // What the server does next with a parsed header: rebuild and compare.
    if (FormatAuthorization(*auth) != in) {
      __builtin_trap();  // parsing and formatting must agree on every header they accept
    }
    std::string canonical = CanonicalRequest("POST", "/v2/apps/a/token", in, auth->timestamp,
                                             auth->nonce, auth->device_id);
    std::uint8_t secret[kSecretBytes] = {};
    (void)Signature(secret, canonical);
    (void)Unseal(secret, auth->device_id, auth->nonce, auth->signature);
  }
  (void)Base64UrlDecode(in);
  (void)ParseTokenBody(in);  // the JSON body of POST token
  return 0;
}
