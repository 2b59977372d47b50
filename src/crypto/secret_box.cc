#include "crypto/secret_box.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "crypto/aes.h"

namespace vendo::crypto {
namespace {

constexpr std::string_view kPrefix = "v1:";

}  // namespace

SecretBox::SecretBox(SecretString master_key, Random& random)
    : key_(std::move(master_key)), random_(random) {}

Result<std::string> SecretBox::Seal(std::string_view plaintext, std::string_view context) const {
  Bytes nonce = random_.Bytes(kGcmNonce);
  auto sealed = AesGcmSeal(AsBytes(key_.Reveal()), nonce, AsBytes(context), AsBytes(plaintext));
  if (!sealed) {
    return std::unexpected(sealed.error());
  }
  nonce.insert(nonce.end(), sealed->begin(), sealed->end());
  return std::string(kPrefix) + Base64Encode(nonce);
}

Result<SecretString> SecretBox::Open(std::string_view sealed, std::string_view context) const {
  if (!sealed.starts_with(kPrefix)) {
    return Fail(ErrorCode::kInternal, "sealed value has an unknown format");
  }
  auto raw = Base64Decode(sealed.substr(kPrefix.size()));
  if (!raw || raw->size() < kGcmNonce + kGcmTag) {
    return Fail(ErrorCode::kInternal, "sealed value is corrupt");
  }
  std::span<const std::uint8_t> all(*raw);
  auto opened = AesGcmOpen(AsBytes(key_.Reveal()), all.first(kGcmNonce), AsBytes(context),
                           all.subspan(kGcmNonce));
  if (!opened) {
    return Fail(ErrorCode::kInternal, "sealed value does not open under the master key");
  }
  SecretString out{std::string(AsChars(*opened))};
  OPENSSL_cleanse(opened->data(), opened->size());
  return out;
}

Result<SecretString> LoadMasterKey(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot read master key file " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "master key file " + path + " is readable by group or others; chmod 600 it");
  }
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  std::string hex = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  OPENSSL_cleanse(text.data(), text.size());
  auto key = HexDecode(hex);
  OPENSSL_cleanse(hex.data(), hex.size());
  if (!key || key->size() != kMasterKeyBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "master key file " + path + " must hold 64 hex characters (32 bytes)");
  }
  SecretString out{std::string(AsChars(*key))};
  OPENSSL_cleanse(key->data(), key->size());
  return out;
}

Status CreateMasterKeyFile(const std::string& path, Random& random) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot create master key file " + path + ": " + std::strerror(errno));
  }
  std::string hex = random.Hex(kMasterKeyBytes) + "\n";
  bool ok =
      ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
  OPENSSL_cleanse(hex.data(), hex.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Fail(ErrorCode::kInternal, "cannot write master key file " + path);
  }
  return {};
}

}  // namespace vendo::crypto
