#include "crypto/secret_box.h"

#include <fcntl.h>
#include <openssl/crypto.h>
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
  // Opened first and checked through the descriptor: the file checked is the file read, and
  // an unreadable file says why (permission denied, not a format error).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return Fail(ErrorCode::kInvalidArgument,
                "cannot read master key file " + path + ": " + std::strerror(err) +
                    (err == EACCES ? " (it must be readable by the user vendo runs as)" : ""));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Fail(ErrorCode::kInvalidArgument,
                "cannot read master key file " + path + ": " + std::strerror(err));
  }
  // As PostgreSQL does for its key: 0600 for the owner, or 0640 when root owns it and the
  // group is the service's (root:vendo, the Debian convention for /etc secrets).
  mode_t allowed = st.st_uid == 0 ? 027 : 077;
  if ((st.st_mode & allowed) != 0) {
    ::close(fd);
    return Fail(
        ErrorCode::kInvalidArgument,
        "master key file " + path + " is readable by " +
            (st.st_uid == 0 ? "others; chmod 640 it (or 600)" : "group or others; chmod 600 it"));
  }
  std::string text;
  char chunk[256];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      OPENSSL_cleanse(text.data(), text.size());
      return Fail(ErrorCode::kInvalidArgument,
                  "cannot read master key file " + path + ": " + std::strerror(err));
    }
    if (n == 0 || text.size() > 4096) {
      break;
    }
    text.append(chunk, static_cast<std::size_t>(n));
  }
  OPENSSL_cleanse(chunk, sizeof chunk);
  ::close(fd);
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
