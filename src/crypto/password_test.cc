#include "crypto/password.h"

#include <gtest/gtest.h>

namespace vendo::crypto {
namespace {

TEST(Password, HashesVerifyAndDiffer) {
  OsRandom random;
  Argon2Params fast{1024, 1, 1};  // small for the test; the defaults are OWASP's
  auto a = HashPassword("correct horse", fast, random);
  auto b = HashPassword("correct horse", fast, random);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
  EXPECT_NE(*a, *b);  // salted
  EXPECT_TRUE(VerifyPassword(*a, "correct horse"));
  EXPECT_FALSE(VerifyPassword(*a, "correct horsE"));
  EXPECT_FALSE(VerifyPassword("not a hash", "correct horse"));
  EXPECT_FALSE(VerifyPassword("6d0c3d...", ""));  // a 2012 hash is not an argon2id hash
}

TEST(Password, DefaultsAreOwasps) {
  Argon2Params p;
  EXPECT_EQ(p.memory_kib, 19456u);
  EXPECT_EQ(p.passes, 2u);
  EXPECT_EQ(p.lanes, 1u);
}

}  // namespace
}  // namespace vendo::crypto
