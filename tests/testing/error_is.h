// ErrorIs(code): a gmock matcher for a Result<T> or Status that failed with `code`. It fails
// (and says what came instead) when the call succeeded, which a bare
// EXPECT_EQ(r.error().code, ...) cannot do: reading error() of a success is undefined.
#pragma once

#include <gmock/gmock.h>

#include <ostream>

#include "vendo/result.h"

namespace vendo::testing {

MATCHER_P(ErrorIs, code, "fails with " + std::string(ErrorCodeName(code))) {
  if (arg.has_value()) {
    *result_listener << "which succeeded";
    return false;
  }
  *result_listener << "which failed with " << ErrorCodeName(arg.error().code) << ": "
                   << arg.error().message;
  return arg.error().code == code;
}

}  // namespace vendo::testing
