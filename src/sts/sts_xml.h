// STS Query API bodies: the form vendo sends, and the XML that comes back.
//
// Parsing accepts AWS's responses (namespaced <GetFederationTokenResponse>/<AssumeRoleResponse>,
// <ErrorResponse><Error>) and Ceph RGW's (no namespace, a bare <Error> root, expirations with
// nanoseconds). Error messages from STS are kept for logs; they are never sent to devices.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vendo/credentials.h"
#include "vendo/result.h"

namespace vendo::sts {

struct StsFailure {
  int http_status = 0;
  std::string code;        // "Throttling", "AccessDenied", ... ("" if the body said nothing)
  std::string message;     // for logs only
  std::string request_id;  // for logs and support cases
  bool retryable = false;  // throttling, 5xx: try again with backoff
  bool throttled = false;
  std::string service = "sts";  // for messages: "STS Throttling (HTTP 400, ...)"
};

struct IssuedCredentials {
  Credentials credentials;
  // PackedPolicySize: the share of STS's limit for the packed session policy and tags that
  // the call used, in percent. STS does not publish how it packs them, so only its answer
  // says how close a policy came; nullopt when the answer has none (Ceph RGW).
  std::optional<int> packed_policy_percent;
};

// Parses a success body. Fails with kInternal (body unreadable or missing fields).
[[nodiscard]] Result<IssuedCredentials> ParseCredentialsResponse(std::string_view xml);
// Classifies an error response; never fails (an unreadable body gives an empty code).
StsFailure ParseErrorResponse(int http_status, std::string_view xml);
// ISO 8601 UTC with optional fractional seconds of any precision: 2026-11-24T04:20:51.787019207Z
[[nodiscard]] Result<std::chrono::system_clock::time_point> ParseIsoTimestamp(
    std::string_view text);

struct Tag {
  std::string key;
  std::string value;
};

// How a form body writes a space. AWS reads both. botocore sends '+', and some servers
// verify signatures over a form they re-encode that way (moto); Ceph RGW 16's STS does not
// decode '+', so STS bodies use %20.
enum class FormSpace { kPercent20, kPlus };

// Appends `key=value` to a form body, percent-encoded as SigV4 does.
void AppendFormParam(std::string& form, std::string_view key, std::string_view value,
                     FormSpace space = FormSpace::kPercent20);

// application/x-www-form-urlencoded bodies (spaces as %20, which RGW needs).
std::string GetFederationTokenForm(std::string_view name, std::string_view policy,
                                   std::chrono::seconds duration);
std::string AssumeRoleForm(std::string_view role_arn, std::string_view session_name,
                           std::string_view policy, std::chrono::seconds duration,
                           const std::vector<Tag>& tags, std::string_view source_identity,
                           std::string_view external_id);

}  // namespace vendo::sts
