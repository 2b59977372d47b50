#include "common/log.h"

#include <gtest/gtest.h>

namespace vendo {
namespace {

TEST(AppendJsonEscaped, EscapesOnlyWhatJsonRequires) {
  std::string out = "x";
  AppendJsonEscaped(out, "plain \"quoted\" back\\slash\nnew\ttab\x01\x7f \xc3\xa4");
  EXPECT_EQ(out, "xplain \\\"quoted\\\" back\\\\slash\\nnew\\ttab\\u0001\\u007f \xc3\xa4");
  std::string empty;
  AppendJsonEscaped(empty, "");
  EXPECT_EQ(empty, "");
  std::string tail;
  AppendJsonEscaped(tail, "end\"");
  EXPECT_EQ(tail, "end\\\"");
}

}  // namespace
}  // namespace vendo
