// AWS Signature Version 4, as a pure function: request, credentials, region, service and time
// in; canonical request, string to sign, signature and the headers or query to add out. Every
// stage is returned so tests can compare each with the suite in ../shared/test-vectors/sigv4.
//
// Paths are normalised (dot segments, repeated slashes) when asked and URI-encoded once per
// segment, as AWS expects for every service but S3. Nothing here reads the clock or logs:
// the secret and the signing key never leave this function.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.h"
#include "vendo/result.h"

namespace vendo::sts {

struct SigningCredentials {
  std::string access_key_id;
  SecretString secret_access_key;
  std::string session_token;  // empty for long-term credentials
};

struct RequestToSign {
  std::string method;
  std::string path;   // as sent, without the query
  std::string query;  // as sent (percent-encoded), without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // must include Host
  std::string body;
};

enum class SignatureLocation { kHeaders, kQuery };

struct SigningOptions {
  std::string region;
  std::string service;
  std::chrono::system_clock::time_point time;
  SignatureLocation location = SignatureLocation::kHeaders;
  bool normalize_path = true;
  bool sign_body = false;              // add and sign x-amz-content-sha256 (header signing)
  bool omit_session_token = false;     // add the token after signing instead of signing it
  std::chrono::seconds expires{3600};  // query signing only
};

struct SignedRequest {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  // Header signing: headers to add (X-Amz-Date, Authorization, ...). Query signing: empty.
  std::vector<std::pair<std::string, std::string>> headers;
  // Query signing: the full query to send (the request's own and X-Amz-*). Header signing:
  // the request's query, unchanged.
  std::string query;
};

[[nodiscard]] Result<SignedRequest> Sign(const RequestToSign& request,
                                         const SigningCredentials& credentials,
                                         const SigningOptions& options);

// RFC 3986 encoding as SigV4 wants it: unreserved characters stay, everything else is %XX
// (upper case); '/' stays only when `keep_slash`.
std::string UriEncode(std::string_view raw, bool keep_slash);
std::string CanonicalPath(std::string_view path, bool normalize);
// Sorted, re-encoded query; fails on malformed percent-encoding.
[[nodiscard]] Result<std::string> CanonicalQuery(
    std::string_view query, const std::vector<std::pair<std::string, std::string>>& extra);

}  // namespace vendo::sts
