#include "crypto/aes.h"

#include <gtest/gtest.h>

#include "testing/error_is.h"

using vendo::testing::ErrorIs;

namespace vendo::crypto {
namespace {

Bytes H(std::string_view hex) { return *HexDecode(hex); }

// NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt), first block; PKCS#7 adds one padding block.
TEST(AesCbc, Sp80038aVector) {
  auto ct =
      AesCbcEncrypt(H("2b7e151628aed2a6abf7158809cf4f3c"), H("000102030405060708090a0b0c0d0e0f"),
                    H("6bc1bee22e409f96e93d7e117393172a"));
  ASSERT_TRUE(ct.has_value());
  ASSERT_EQ(ct->size(), 32u);
  EXPECT_EQ(HexEncode(std::span(*ct).first(16)), "7649abac8119b246cee98e9b12e9197d");
}

TEST(AesCbc, RoundTripAndBadInputs) {
  Bytes key(16, 7), iv(16, 9);
  auto ct = AesCbcEncrypt(key, iv, AsBytes("hello"));
  ASSERT_TRUE(ct.has_value());
  auto pt = AesCbcDecrypt(key, iv, *ct);
  ASSERT_TRUE(pt.has_value());
  EXPECT_EQ(AsChars(*pt), "hello");
  EXPECT_FALSE(AesCbcEncrypt(Bytes(15), iv, AsBytes("x")).has_value());
  EXPECT_FALSE(AesCbcEncrypt(key, Bytes(8), AsBytes("x")).has_value());
  Bytes wrong_key(16, 8);
  auto bad = AesCbcDecrypt(wrong_key, iv, *ct);
  // A wrong key almost always breaks the padding; when it does not, the text differs.
  EXPECT_TRUE(!bad.has_value() || AsChars(*bad) != "hello");
}

TEST(AesCbc, EncryptToWritesTheSameBytesAndRefusesAShortBuffer) {
  Bytes key(32, 3), iv(16, 4);
  std::string_view text = "sixteen bytes!!!and more";  // one full block and a partial one
  auto ct = AesCbcEncrypt(key, iv, AsBytes(text));
  ASSERT_TRUE(ct.has_value());
  Bytes out(text.size() + kAesBlock, 0xee);
  auto n = AesCbcEncryptTo(key, iv, AsBytes(text), out);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(*n)), *ct);
  Bytes too_small(text.size() + kAesBlock - 1);
  auto refused = AesCbcEncryptTo(key, iv, AsBytes(text), too_small);
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused, ErrorIs(ErrorCode::kInternal));
}

TEST(AesGcm, RoundTripDetectsTamperingAndWrongAad) {
  Bytes key(32, 1), nonce(12, 2);
  auto sealed = AesGcmSeal(key, nonce, AsBytes("row-1"), AsBytes("secret"));
  ASSERT_TRUE(sealed.has_value());
  auto opened = AesGcmOpen(key, nonce, AsBytes("row-1"), *sealed);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(AsChars(*opened), "secret");
  EXPECT_THAT(AesGcmOpen(key, nonce, AsBytes("row-2"), *sealed),
              ErrorIs(ErrorCode::kUnauthenticated));
  (*sealed)[0] ^= 1;
  EXPECT_FALSE(AesGcmOpen(key, nonce, AsBytes("row-1"), *sealed).has_value());
}

}  // namespace
}  // namespace vendo::crypto

namespace vendo::crypto {
namespace {

// Contexts are reused per thread: a failure, another key size or another direction must not
// leak state into the next call.
TEST(AesContextReuse, FailuresAndMixedKeySizesDoNotLeakState) {
  Bytes iv(16, 3), k128(16, 1), k256(32, 2), nonce(12, 4);
  auto a = AesCbcEncrypt(k128, iv, AsBytes("first message"));
  auto b = AesCbcEncrypt(k256, iv, AsBytes("second message"));
  ASSERT_TRUE(a && b);
  Bytes garbage(32, 0x5a);
  (void)AesCbcDecrypt(k128, iv, garbage);  // bad padding, most likely
  EXPECT_EQ(AsChars(*AesCbcDecrypt(k128, iv, *a)), "first message");
  EXPECT_EQ(AsChars(*AesCbcDecrypt(k256, iv, *b)), "second message");
  // Same plaintext and key twice: same ciphertext (no state carried over).
  EXPECT_EQ(*AesCbcEncrypt(k128, iv, AsBytes("first message")), *a);

  auto sealed = AesGcmSeal(k256, nonce, AsBytes("ctx"), AsBytes("payload"));
  ASSERT_TRUE(sealed.has_value());
  Bytes tampered = *sealed;
  tampered.back() ^= 1;
  EXPECT_FALSE(AesGcmOpen(k256, nonce, AsBytes("ctx"), tampered).has_value());
  EXPECT_EQ(AsChars(*AesGcmOpen(k256, nonce, AsBytes("ctx"), *sealed)), "payload");
  EXPECT_EQ(*AesGcmSeal(k256, nonce, AsBytes("ctx"), AsBytes("payload")), *sealed);
}

}  // namespace
}  // namespace vendo::crypto
