// What the client library sends and parses, as pure functions (no I/O), for both protocols.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "vendo/client.h"

namespace vendo::client::wire {

using TimePoint = std::chrono::system_clock::time_point;

// An HTTP date ("Tue, 24 Nov 2026 09:25:09 GMT"); nullopt when it is not one.
std::optional<TimePoint> ParseHttpDate(std::string_view text);

// The credentials JSON of a v2 token response ({"AccessKeyId", ..., "Region"}).
[[nodiscard]] Result<Credentials> ParseV2Credentials(std::string_view json, std::string& region);
// A v2 error body's code ("invalid_signature"), or "" when the body is not one.
std::string V2ErrorCode(std::string_view body);
// The error a v2 reply maps to: its code and message, for the app to show.
Error V2Error(int status, std::string_view body);

// The unwrapped 2012 token plaintext ({\taccessKey: "…", …, expirationDate: "<ms>"}).
[[nodiscard]] Result<Credentials> ParseLegacyToken(std::string_view plaintext);
// The unwrapped 2012 login plaintext ({\tkey: "…"}).
[[nodiscard]] Result<std::string> ParseLegacyKey(std::string_view plaintext);

// Percent-encodes everything but RFC 3986 unreserved characters (so '+' is %2B).
std::string QueryEscape(std::string_view s);

// The JSON form of State, for FileStateStore.
std::string StateToJson(const State& state);
[[nodiscard]] Result<State> StateFromJson(std::string_view json);

}  // namespace vendo::client::wire
