#include "policy/hash.h"

#include "common/encoding.h"
#include "crypto/hmac.h"

namespace vendo::policy {

std::string PolicyHash(std::string_view rendered) {
  return HexEncode(crypto::Sha256(AsBytes(rendered)));
}

}  // namespace vendo::policy
