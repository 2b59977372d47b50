#include "sts/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <map>

#include "common/encoding.h"
#include "crypto/hmac.h"

namespace vendo::sts {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

std::string FormatTime(std::chrono::system_clock::time_point t, const char* format) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// Trims the value and collapses runs of spaces and tabs (also inside quotes, as AWS does).
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) {
      out.push_back(' ');
      space = false;
    }
    out.push_back(c);
  }
  return out;
}

// Headers a proxy may change or drop: never signed.
bool Unsignable(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" ||
         lower_name == "x-amzn-trace-id" || lower_name == "expect" || lower_name == "connection" ||
         lower_name == "transfer-encoding";
}

crypto::Digest Hmac(std::span<const std::uint8_t> key, std::string_view message) {
  return crypto::HmacSha256(key, AsBytes(message));
}

}  // namespace

std::string UriEncode(std::string_view raw, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (unsigned char c : raw) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string CanonicalPath(std::string_view path, bool normalize) {
  if (path.empty()) {
    return "/";
  }
  if (!normalize) {
    return UriEncode(path, true);
  }
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "..") {
      if (!segments.empty()) {
        segments.pop_back();
      }
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    out += UriEncode(segments[i], false);
    if (i + 1 < segments.size()) {
      out += '/';
    }
  }
  // A trailing slash survives ("/example/"), unless the path collapsed to the root.
  bool trailing = path.back() == '/' || path.ends_with("/.") || path.ends_with("/..");
  if (trailing && !segments.empty() && !path.ends_with("..")) {
    out += '/';
  }
  return out;
}

Result<std::string> CanonicalQuery(std::string_view query,
                                   const std::vector<std::pair<std::string, std::string>>& extra) {
  auto decoded = DecodeQueryPairs(query, /*plus_is_space=*/false, SIZE_MAX);
  if (!decoded) {
    return Fail(ErrorCode::kInvalidArgument, "malformed query string");
  }
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [key, value] : *decoded) {
    params.emplace_back(UriEncode(key, false), UriEncode(value, false));
  }
  for (const auto& [k, v] : extra) {
    params.emplace_back(UriEncode(k, false), UriEncode(v, false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) {
      out += '&';
    }
    out.append(k).append("=").append(v);
  }
  return out;
}

Result<SignedRequest> Sign(const RequestToSign& request, const SigningCredentials& credentials,
                           const SigningOptions& options) {
  if (options.region.empty() || options.service.empty() || credentials.access_key_id.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "SigV4 needs a region, a service and an access key");
  }
  const bool in_headers = options.location == SignatureLocation::kHeaders;
  const bool sign_token = !credentials.session_token.empty() && !options.omit_session_token;
  std::string amz_date = FormatTime(options.time, "%Y%m%dT%H%M%SZ");
  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + options.region + "/" + options.service + "/aws4_request";
  std::string payload_hash = HexEncode(crypto::Sha256(AsBytes(request.body)));

  // Canonical headers: lower-case names, sorted; repeated names joined with ',' in order.
  std::map<std::string, std::string> headers;
  auto add = [&](std::string_view name, std::string_view value) {
    std::string lower = AsciiLower(name);
    if (Unsignable(lower)) {
      return;
    }
    std::string canonical = CanonicalHeaderValue(value);
    auto [it, inserted] = headers.try_emplace(lower, canonical);
    if (!inserted) {
      it->second.append(",").append(canonical);
    }
  };
  for (const auto& [name, value] : request.headers) {
    add(name, value);
  }
  SignedRequest out;
  if (in_headers) {
    add("x-amz-date", amz_date);
    out.headers.emplace_back("X-Amz-Date", amz_date);
    if (sign_token) {
      add("x-amz-security-token", credentials.session_token);
    }
    if (options.sign_body) {
      add("x-amz-content-sha256", payload_hash);
      out.headers.emplace_back("X-Amz-Content-Sha256", payload_hash);
    }
  }
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers.append(name).append(":").append(value).append("\n");
    if (!signed_headers.empty()) {
      signed_headers += ';';
    }
    signed_headers += name;
  }

  std::vector<std::pair<std::string, std::string>> extra;
  if (!in_headers) {
    extra = {{"X-Amz-Algorithm", std::string(kAlgorithm)},
             {"X-Amz-Credential", credentials.access_key_id + "/" + scope},
             {"X-Amz-Date", amz_date},
             {"X-Amz-Expires", std::to_string(options.expires.count())},
             {"X-Amz-SignedHeaders", signed_headers}};
    if (sign_token) {
      extra.emplace_back("X-Amz-Security-Token", credentials.session_token);
    }
  }
  auto query = CanonicalQuery(request.query, extra);
  if (!query) {
    return std::unexpected(query.error());
  }

  out.canonical_request = request.method + "\n" +
                          CanonicalPath(request.path, options.normalize_path) + "\n" + *query +
                          "\n" + canonical_headers + "\n" + signed_headers + "\n" + payload_hash;
  out.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" +
                       HexEncode(crypto::Sha256(AsBytes(out.canonical_request)));

  std::string secret_key = "AWS4";
  secret_key.append(credentials.secret_access_key.Reveal());
  crypto::Digest k = Hmac(AsBytes(secret_key), date);
  OPENSSL_cleanse(secret_key.data(), secret_key.size());
  k = Hmac(k, options.region);
  k = Hmac(k, options.service);
  k = Hmac(k, "aws4_request");
  out.signature = HexEncode(Hmac(k, out.string_to_sign));
  OPENSSL_cleanse(k.data(), k.size());

  if (in_headers) {
    if (!credentials.session_token.empty()) {
      out.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
    }
    out.headers.emplace_back("Authorization", std::string(kAlgorithm) +
                                                  " Credential=" + credentials.access_key_id + "/" +
                                                  scope + ", SignedHeaders=" + signed_headers +
                                                  ", Signature=" + out.signature);
    out.query = request.query;
  } else {
    out.query = *query + "&X-Amz-Signature=" + out.signature;
    if (!credentials.session_token.empty() && options.omit_session_token) {
      out.query += "&X-Amz-Security-Token=" + UriEncode(credentials.session_token, false);
    }
  }
  return out;
}

}  // namespace vendo::sts
