#include "issuer/dev_issuer.h"

#include "common/encoding.h"

namespace vendo::issuer {
namespace {

// Upper-case base32-ish alphabet, like AWS access key ids.
std::string AccessKeyId(Random& random) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  Bytes b = random.Bytes(16);
  std::string id = "VDEV";
  for (std::uint8_t x : b) {
    id += kAlphabet[x % 32];
  }
  return id;
}

}  // namespace

void DevIssuer::Issue(IssueRequest request, IssueCallback done) {
  Credentials creds;
  creds.access_key_id = AccessKeyId(random_);
  // 30 random bytes give 40 base64 characters, the length of an AWS secret key.
  creds.secret_access_key = Base64Encode(random_.Bytes(30));
  creds.session_token = "vendo-dev/" + Base64Encode(random_.Bytes(96));
  // Whole seconds, as STS reports expirations.
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock_.Now());
  creds.expiration = now + request.duration;
  done(std::move(creds));
}

}  // namespace vendo::issuer
