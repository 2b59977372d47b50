#include "common/secret_file.h"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vendo {

Result<SecretString> ReadSecretFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Fail(ErrorCode::kInvalidArgument, "cannot read " + path + ": " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (text.empty()) {
    return Fail(ErrorCode::kInvalidArgument, path + " is empty");
  }
  SecretString secret(text);
  OPENSSL_cleanse(text.data(), text.size());
  return secret;
}

}  // namespace vendo
