// vendo::Result<T> and vendo::Status: errors as values.
//
// Every fallible vendo function returns Result<T> (a std::expected<T, Error>) or Status
// (Result<void>). The ErrorCode set is small and fixed, after absl's canonical codes; the
// message is for logs and humans, never for control flow, and never holds a secret: what
// callers act on is typed (the code, a reason, a retry-after).
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace vendo {

enum class ErrorCode {
  kInvalidArgument,     // malformed or missing input
  kUnauthenticated,     // bad or absent signature, unknown caller
  kPermissionDenied,    // known caller, not allowed
  kNotFound,            // no such record
  kAlreadyExists,       // a record with that key exists
  kFailedPrecondition,  // state does not allow the call (e.g. device bound to another user)
  kResourceExhausted,   // rate limit or size limit
  kStaleRequest,        // timestamp outside the accepted window
  kDeadlineExceeded,    // a dependency took too long
  kUnavailable,         // a dependency is down; retryable
  kInternal,            // a bug or an unexpected failure
  kWouldBlock,          // the answer needs I/O the caller must not wait for here (a record
                        // not in memory): ask again where blocking is allowed
};

// Which refusal a kPermissionDenied is, where callers answer them differently (v2 says
// device_revoked or user_disabled); kNone for every other error.
enum class ErrorReason : unsigned char {
  kNone,
  kDeviceRevoked,   // revoked by an operator or by itself
  kDeviceExpired,   // older than the app's max_device_age_days
  kNoUser,          // an identity app's device bound to no user
  kUserGone,        // its user was deleted
  kUserDisabled,    // its user is disabled
  kClaimNotUsable,  // a federated identity's claim the policy needs is missing or unfit
};

struct Error {
  ErrorCode code;
  std::string message;
  // When asking again may succeed (a rate limit's window, an overloaded dependency); zero
  // when nobody knows. Sent as Retry-After.
  std::chrono::seconds retry_after{0};
  ErrorReason reason = ErrorReason::kNone;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

// Returns the unexpected value to `return` from a function yielding Result<T>.
inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

// Stable, lower-case name of a code ("invalid_argument"), for logs and JSON errors.
std::string_view ErrorCodeName(ErrorCode code);

}  // namespace vendo

// Evaluates `expr` (a Status); returns its error from the enclosing function on failure.
#define VENDO_RETURN_IF_ERROR(expr)                  \
  do {                                               \
    if (auto vendo_status_ = (expr); !vendo_status_) \
      return std::unexpected(vendo_status_.error()); \
  } while (false)
