#include "crypto/aes.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <array>
#include <memory>

namespace vendo::crypto {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// A per-thread context for (cipher, direction), given its cipher once. Later calls pass only
// the key and IV: re-initialising with the cipher (or resetting) makes OpenSSL 3 free and
// allocate its provider context each time, which was 6% of /gettoken's CPU. The last key
// schedule stays in the thread's context until the next call replaces it.
EVP_CIPHER_CTX* ThreadContext(const EVP_CIPHER* cipher, bool encrypt) {
  struct Slot {
    const EVP_CIPHER* cipher = nullptr;
    bool encrypt = false;
    std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx;
  };
  thread_local std::array<Slot, 8> slots;  // 3 CBC key sizes and GCM, each way
  for (Slot& slot : slots) {
    if (slot.ctx && slot.cipher == cipher && slot.encrypt == encrypt) {
      return slot.ctx.get();
    }
    if (!slot.ctx) {
      slot.ctx.reset(EVP_CIPHER_CTX_new());
      if (!slot.ctx || EVP_CipherInit_ex2(slot.ctx.get(), cipher, nullptr, nullptr, encrypt ? 1 : 0,
                                          nullptr) != 1) {
        slot.ctx.reset();
        return nullptr;
      }
      slot.cipher = cipher;
      slot.encrypt = encrypt;
      return slot.ctx.get();
    }
  }
  return nullptr;  // more (cipher, direction) pairs than slots: a bug
}

// Algorithms are fetched once; fetching per call costs more than encrypting a token.
const EVP_CIPHER* CbcCipher(std::size_t key_len) {
  static EVP_CIPHER* aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
  static EVP_CIPHER* aes192 = EVP_CIPHER_fetch(nullptr, "AES-192-CBC", nullptr);
  static EVP_CIPHER* aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr);
  switch (key_len) {
    case 16:
      return aes128;
    case 24:
      return aes192;
    case 32:
      return aes256;
    default:
      return nullptr;
  }
}

const EVP_CIPHER* GcmCipher() {
  static EVP_CIPHER* aes256gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return aes256gcm;
}

// `out` holds at least in.size() + 16 bytes (the padding's room).
Result<std::size_t> RunCbc(bool encrypt, std::span<const std::uint8_t> key,
                           std::span<const std::uint8_t> iv, std::span<const std::uint8_t> in,
                           std::span<std::uint8_t> out) {
  const EVP_CIPHER* cipher = CbcCipher(key.size());
  if (cipher == nullptr) {
    return Fail(ErrorCode::kInvalidArgument, "AES key must be 16, 24 or 32 bytes");
  }
  if (iv.size() != kAesBlock) {
    return Fail(ErrorCode::kInvalidArgument, "AES-CBC IV must be 16 bytes");
  }
  if (out.size() < in.size() + kAesBlock) {
    return Fail(ErrorCode::kInternal, "AES-CBC output buffer too small");
  }
  EVP_CIPHER_CTX* ctx = ThreadContext(cipher, encrypt);
  int n1 = 0;
  int n2 = 0;
  if (ctx == nullptr ||
      EVP_CipherInit_ex2(ctx, nullptr, key.data(), iv.data(), encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CipherUpdate(ctx, out.data(), &n1, in.data(), static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx, out.data() + n1, &n2) != 1) {
    return Fail(encrypt ? ErrorCode::kInternal : ErrorCode::kInvalidArgument,
                encrypt ? "AES-CBC encryption failed" : "AES-CBC decryption failed");
  }
  return static_cast<std::size_t>(n1) + static_cast<std::size_t>(n2);
}

Result<Bytes> RunCbc(bool encrypt, std::span<const std::uint8_t> key,
                     std::span<const std::uint8_t> iv, std::span<const std::uint8_t> in) {
  Bytes out(in.size() + kAesBlock);
  auto n = RunCbc(encrypt, key, iv, in, out);
  if (!n) {
    return std::unexpected(n.error());
  }
  out.resize(*n);
  return out;
}

}  // namespace

Result<Bytes> AesCbcEncrypt(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
                            std::span<const std::uint8_t> plaintext) {
  return RunCbc(true, key, iv, plaintext);
}

Result<std::size_t> AesCbcEncryptTo(std::span<const std::uint8_t> key,
                                    std::span<const std::uint8_t> iv,
                                    std::span<const std::uint8_t> plaintext,
                                    std::span<std::uint8_t> out) {
  return RunCbc(true, key, iv, plaintext, out);
}

Result<Bytes> AesCbcDecrypt(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
                            std::span<const std::uint8_t> ciphertext) {
  return RunCbc(false, key, iv, ciphertext);
}

Result<Bytes> AesGcmSeal(std::span<const std::uint8_t> key, std::span<const std::uint8_t> nonce,
                         std::span<const std::uint8_t> aad,
                         std::span<const std::uint8_t> plaintext) {
  if (key.size() != 32 || nonce.size() != kGcmNonce) {
    return Fail(ErrorCode::kInvalidArgument, "AES-256-GCM needs a 32-byte key, 12-byte nonce");
  }
  EVP_CIPHER_CTX* ctx = ThreadContext(GcmCipher(), true);
  Bytes out(plaintext.size() + kGcmTag);
  int n = 0;
  int tmp = 0;
  bool ok =
      ctx != nullptr && EVP_EncryptInit_ex2(ctx, nullptr, key.data(), nonce.data(), nullptr) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &tmp, aad.data(), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, out.data(), &n, plaintext.data(),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, out.data() + n, &tmp) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kGcmTag, out.data() + plaintext.size()) == 1;
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
  EVP_CIPHER_CTX* ctx = ThreadContext(GcmCipher(), false);
  Bytes out(ct_len);
  int n = 0;
  int tmp = 0;
  // The tag is read by OpenSSL through a non-const pointer but never written.
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + ct_len);
  bool ok = ctx != nullptr &&
            EVP_DecryptInit_ex2(ctx, nullptr, key.data(), nonce.data(), nullptr) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &tmp, aad.data(), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx, out.data(), &n, sealed.data(), static_cast<int>(ct_len)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTag, tag) == 1;
  if (!ok) {
    return Fail(ErrorCode::kInternal, "AES-GCM opening failed");
  }
  if (EVP_DecryptFinal_ex(ctx, out.data() + n, &tmp) != 1) {
    return Fail(ErrorCode::kUnauthenticated, "AES-GCM tag mismatch");
  }
  return out;
}

}  // namespace vendo::crypto
