#include "policy/hash.h"

#include <gtest/gtest.h>

namespace vendo::policy {
namespace {

TEST(PolicyHash, IsSha256Hex) {
  EXPECT_EQ(PolicyHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace vendo::policy
