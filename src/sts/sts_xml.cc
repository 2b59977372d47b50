#include "sts/sts_xml.h"

#include <array>
#include <charconv>
#include <pugixml.hpp>

#include "common/encoding.h"
#include "sts/sigv4.h"

namespace vendo::sts {
namespace {

constexpr std::string_view kVersion = "2011-06-15";

pugi::xml_node FindFirst(const pugi::xml_node& root, std::string_view name) {
  return root.find_node([name](const pugi::xml_node& n) { return name == n.name(); });
}

std::string TextOf(const pugi::xml_node& parent, std::string_view child) {
  return FindFirst(parent, child).child_value();
}

bool Load(pugi::xml_document& doc, std::string_view xml) {
  // pugixml does not throw; it reports through the result. No DTDs, no entities beyond XML's.
  return static_cast<bool>(doc.load_buffer(xml.data(), xml.size(), pugi::parse_default));
}

}  // namespace

void AppendFormParam(std::string& form, std::string_view key, std::string_view value,
                     FormSpace space) {
  if (!form.empty()) {
    form += '&';
  }
  form.append(UriEncode(key, false)).append("=");
  std::string encoded = UriEncode(value, false);
  if (space == FormSpace::kPercent20) {
    form.append(encoded);
    return;
  }
  std::string_view rest = encoded;
  for (auto at = rest.find("%20"); at != std::string_view::npos; at = rest.find("%20")) {
    form.append(rest.substr(0, at)).push_back('+');
    rest.remove_prefix(at + 3);
  }
  form.append(rest);
}

Result<std::chrono::system_clock::time_point> ParseIsoTimestamp(std::string_view s) {
  auto bad = [&] { return Fail(ErrorCode::kInternal, "unreadable STS timestamp"); };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s.back() != 'Z') {
    return bad();
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!ReadDigits(s, 0, 4, y) || !ReadDigits(s, 5, 2, mo) || !ReadDigits(s, 8, 2, d) ||
      !ReadDigits(s, 11, 2, h) || !ReadDigits(s, 14, 2, mi) || !ReadDigits(s, 17, 2, sec)) {
    return bad();
  }
  std::chrono::nanoseconds frac{0};
  std::string_view rest = s.substr(19, s.size() - 20);
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 10) {
      return bad();
    }
    long long ns = 0;
    for (std::size_t i = 1; i < 10; ++i) {
      char c = i < rest.size() ? rest[i] : '0';
      if (c < '0' || c > '9') {
        return bad();
      }
      ns = ns * 10 + (c - '0');
    }
    frac = std::chrono::nanoseconds(ns);
  }
  using namespace std::chrono;
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  // Beyond 2262 the clock's nanosecond count overflows (found by fuzz_sts_xml).
  if (!ymd.ok() || y < 1970 || y > 2200 || h > 23 || mi > 59 || sec > 60) {
    return bad();
  }
  return time_point_cast<system_clock::duration>(sys_days(ymd) + hours(h) + minutes(mi) +
                                                 seconds(sec) + frac);
}

Result<IssuedCredentials> ParseCredentialsResponse(std::string_view xml) {
  pugi::xml_document doc;
  if (!Load(doc, xml)) {
    return Fail(ErrorCode::kInternal, "STS answered with unreadable XML");
  }
  pugi::xml_node creds = FindFirst(doc, "Credentials");
  if (!creds) {
    return Fail(ErrorCode::kInternal, "STS response has no Credentials");
  }
  Credentials out{TextOf(creds, "AccessKeyId"),
                  TextOf(creds, "SecretAccessKey"),
                  TextOf(creds, "SessionToken"),
                  {}};
  auto expiration = ParseIsoTimestamp(TextOf(creds, "Expiration"));
  if (out.access_key_id.empty() || out.secret_access_key.empty() || out.session_token.empty() ||
      !expiration) {
    return Fail(ErrorCode::kInternal, "STS credentials are incomplete");
  }
  out.expiration = *expiration;
  IssuedCredentials issued{std::move(out), std::nullopt};
  std::string packed = TextOf(doc, "PackedPolicySize");
  int percent = 0;
  auto [end, ec] = std::from_chars(packed.data(), packed.data() + packed.size(), percent);
  if (!packed.empty() && ec == std::errc() && end == packed.data() + packed.size() &&
      percent >= 0) {
    issued.packed_policy_percent = percent;
  }
  return issued;
}

StsFailure ParseErrorResponse(int http_status, std::string_view xml) {
  StsFailure f;
  f.http_status = http_status;
  pugi::xml_document doc;
  if (Load(doc, xml)) {
    pugi::xml_node error = FindFirst(doc, "Error");  // under <ErrorResponse>, or the root (RGW)
    f.code = TextOf(error, "Code");
    f.message = TextOf(error, "Message");
    f.request_id = TextOf(doc, "RequestId");
  }
  static constexpr std::array<std::string_view, 6> kThrottles = {
      "Throttling", "ThrottlingException",    "RequestLimitExceeded", "TooManyRequestsException",
      "SlowDown",   "PriorRequestNotComplete"};
  for (auto t : kThrottles) {
    f.throttled = f.throttled || f.code == t;
  }
  f.throttled = f.throttled || http_status == 429;
  f.retryable = f.throttled || http_status >= 500 || f.code == "IDPCommunicationError" ||
                f.code == "InternalFailure" || f.code == "ServiceUnavailable";
  return f;
}

std::string GetFederationTokenForm(std::string_view name, std::string_view policy,
                                   std::chrono::seconds duration) {
  std::string form;
  AppendFormParam(form, "Action", "GetFederationToken");
  AppendFormParam(form, "Version", kVersion);
  AppendFormParam(form, "Name", name);
  AppendFormParam(form, "DurationSeconds", std::to_string(duration.count()));
  if (!policy.empty()) {
    AppendFormParam(form, "Policy", policy);
  }
  return form;
}

std::string AssumeRoleForm(std::string_view role_arn, std::string_view session_name,
                           std::string_view policy, std::chrono::seconds duration,
                           const std::vector<Tag>& tags, std::string_view source_identity,
                           std::string_view external_id) {
  std::string form;
  AppendFormParam(form, "Action", "AssumeRole");
  AppendFormParam(form, "Version", kVersion);
  AppendFormParam(form, "RoleArn", role_arn);
  AppendFormParam(form, "RoleSessionName", session_name);
  AppendFormParam(form, "DurationSeconds", std::to_string(duration.count()));
  if (!policy.empty()) {
    AppendFormParam(form, "Policy", policy);
  }
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string prefix = "Tags.member." + std::to_string(i + 1);
    AppendFormParam(form, prefix + ".Key", tags[i].key);
    AppendFormParam(form, prefix + ".Value", tags[i].value);
  }
  if (!source_identity.empty()) {
    AppendFormParam(form, "SourceIdentity", source_identity);
  }
  if (!external_id.empty()) {
    AppendFormParam(form, "ExternalId", external_id);
  }
  return form;
}

}  // namespace vendo::sts
