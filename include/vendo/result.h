// vendo::Result<T> and vendo::Status: errors as values.
//
// Every fallible vendo function returns Result<T> (a std::expected<T, Error>) or Status
// (Result<void>). The ErrorCode set is small and fixed, after absl's canonical codes; the
// message is for logs and humans, never for control flow, and never holds a secret.
#pragma once

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

struct Error {
  ErrorCode code;
  std::string message;
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
