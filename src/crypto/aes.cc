#include "crypto/aes.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <memory>

namespace vendo::crypto {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// One reusable cipher context per thread (reset before each use): allocating and freeing a
// context per call showed up in the /gettoken profile.
class CipherCtx {
 public:
  CipherCtx() {
    thread_local std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
    ctx_ = ctx.get();
    if (ctx_ != nullptr) {
      EVP_CIPHER_CTX_reset(ctx_);
    }
  }
  ~CipherCtx() {
    if (ctx_ != nullptr) {
      EVP_CIPHER_CTX_reset(ctx_);  // wipes the key schedule
    }
  }
  CipherCtx(const CipherCtx&) = delete;
  CipherCtx& operator=(const CipherCtx&) = delete;
  EVP_CIPHER_CTX* get() const { return ctx_; }
  explicit operator bool() const { return ctx_ != nullptr; }

 private:
  EVP_CIPHER_CTX* ctx_;
};

// Algorithms are fetched once; fetching per call costs more than encrypting a token.
const EVP_CIPHER* CbcCipher(std::size_t key_len) {
  static EVP_CIPHER* aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
  static EVP_CIPHER* aes192 = EVP_CIPHER_fetch(nullptr, "AES-192-CBC", nullptr);
  static EVP_CIPHER* aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  switch (key_len) {
    case 16: return aes128;
    case 24: return aes192;
    case 32: return aes256;
    default: return nullptr;
  }
}

const EVP_CIPHER* GcmCipher() {
  static EVP_CIPHER* aes256gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return aes256gcm;
}

Result<Bytes> RunCbc(bool encrypt, std::span<const std::uint8_t> key,
                     std::span<const std::uint8_t> iv, std::span<const std::uint8_t> in) {
  const EVP_CIPHER* cipher = CbcCipher(key.size());
  if (cipher == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "AES key must be 16, 24 or 32 bytes");
  }
  if (iv.size() != kAesBlock) {
    return Fail(ErrorCode::kInvalidArgument, "AES-CBC IV must be 16 bytes");
  }
  CipherCtx ctx;
  Bytes out(in.size() + kAesBlock);
  int n1 = 0;
  int n2 = 0;
  if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), iv.data(), encrypt ? 1 : 0,
                                 nullptr) != 1 ||
      EVP_CipherUpdate(ctx.get(), out.data(), &n1, in.data(), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out.data() + n1, &n2) != 1) {
    return Fail(encrypt ? ErrorCode::kInternal : ErrorCode::kInvalidArgument,
                encrypt ? "AES-CBC encryption failed" : "AES-CBC decryption failed");
  }
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

}  // namespace

Result<Bytes> AesCbcEncrypt(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
                            std::span<const std::uint8_t> plaintext) {
  return RunCbc(true, key, iv, plaintext);
}

Result<Bytes> AesCbcDecrypt(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
                            std::span<const std::uint8_t> ciphertext) {
  return RunCbc(false, key, iv, ciphertext);
}

Result<Bytes> AesGcmSeal(std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
                         std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plaintext) {
  if (key.size() != 32 || nonce.size() != kGcmNonce) {
    return Fail(ErrorCode::kInvalidArgument, "AES-256-GCM needs a 32-byte key, 12-byte nonce");
  }
  CipherCtx ctx;
  Bytes out(plaintext.size() + kGcmTag);
  int n = 0;
  int tmp = 0;
  bool ok = ctx && EVP_EncryptInit_ex2(ctx.get(), GcmCipher(), key.data(), nonce.data(), nullptr) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &tmp, aad.data(), static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), out.data(), &n, plaintext.data(),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &tmp) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTag,
                                out.data() + plaintext.size()) == 1;
  if (!ok) {
    return Fail(ErrorCode::kInternal, "AES-GCM sealing failed");
  }
  return out;
}

Result<Bytes> AesGcmOpen(std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
                         std::span<const std::uint8_t> aad, std::span<const std::uint8_t> sealed) {
  if (key.size() != 32 || nonce.size() != kGcmNonce || sealed.size() < kGcmTag) {
    return Fail(ErrorCode::kInvalidArgument, "malformed AES-256-GCM input");
  }
  std::size_t ct_len = sealed.size() - kGcmTag;
  CipherCtx ctx;
  Bytes out(ct_len);
  int n = 0;
  int tmp = 0;
  // The tag is read by OpenSSL through a non-const pointer but never written.
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + ct_len);
  bool ok = ctx && EVP_DecryptInit_ex2(ctx.get(), GcmCipher(), key.data(), nonce.data(), nullptr) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &tmp, aad.data(), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), out.data(), &n, sealed.data(), static_cast<int>(ct_len)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTag, tag) == 1;
  if (!ok) {
    return Fail(ErrorCode::kInternal, "AES-GCM opening failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + n, &tmp) != 1) {
    return Fail(ErrorCode::kUnauthenticated, "AES-GCM tag mismatch");
  }
  return out;
}

}  // namespace vendo::crypto
