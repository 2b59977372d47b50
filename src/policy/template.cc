#include "policy/template.h"

#include <algorithm>
#include <boost/json.hpp>

#include "common/encoding.h"
#include "common/log.h"
#include "common/sorted_pairs.h"

namespace vendo::policy {
namespace {

struct Binding {
  std::string_view token;
  std::string Vars::*field;
};

constexpr Binding kBindings[] = {
    {"${app}", &Vars::app},
    {"${uid}", &Vars::uid},
    {"${username}", &Vars::username},
    {"${userid}", &Vars::user_id},
    {"${account_id}", &Vars::account_id},
    {"${region}", &Vars::region},
    {"${idp}", &Vars::idp},
    {"__USERNAME__", &Vars::username},
    {"__REGION__", &Vars::region},
    {"__ACCOUNT_ID__", &Vars::account_id},
};

}  // namespace

bool IsClaimName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

namespace {

// A claim value a template may take: short, UTF-8, and nothing JSON would have to escape (so
// the worst case at Parse is its length), on top of IsSafeValue.
bool IsTemplateClaim(std::string_view value) {
  if (value.size() > kMaxClaimBytes || !IsValidUtf8(value)) {
    return false;
  }
  for (unsigned char ch : value) {
    if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') {
      return false;
    }
  }
  return IsSafeValue(value);
}

const Binding* MatchAt(std::string_view text, std::size_t pos) {
  for (const Binding& b : kBindings) {
    if (text.substr(pos).starts_with(b.token)) {
      return &b;
    }
  }
  return nullptr;
}

Result<std::vector<Template::Segment>> Split(std::string_view text) {
  std::vector<Template::Segment> segments;
  std::string literal;
  // Where we are in the JSON text: a variable must sit inside a string, where its escaped
  // value cannot end the string. Outside one, a value could add keys or statements.
  bool in_string = false;
  bool escaped = false;
  for (std::size_t i = 0; i < text.size();) {
    if (const Binding* b = MatchAt(text, i)) {
      if (!in_string) {
        return Fail(ErrorCode::kInvalidArgument, "policy variable " + std::string(b->token) +
                                                     " must be inside a JSON string (\"...\")");
      }
      escaped = false;
      if (!literal.empty()) {
        segments.push_back({std::move(literal), nullptr, ""});
        literal.clear();
      }
      segments.push_back({"", b->field, ""});
      i += b->token.size();
      continue;
    }
    if (text.substr(i).starts_with("${claim:")) {
      auto end = text.find('}', i);
      std::string_view name = end == std::string_view::npos ? "" : text.substr(i + 8, end - i - 8);
      if (!IsClaimName(name)) {
        return Fail(ErrorCode::kInvalidArgument,
                    "${claim:NAME} needs a claim name of 1-64 letters, digits, '_', '-' or '.'");
      }
      if (!in_string) {
        return Fail(ErrorCode::kInvalidArgument, "policy variable ${claim:" + std::string(name) +
                                                     "} must be inside a JSON string (\"...\")");
      }
      escaped = false;
      if (!literal.empty()) {
        segments.push_back({std::move(literal), nullptr, ""});
        literal.clear();
      }
      segments.push_back({"", nullptr, std::string(name)});
      i = end + 1;
      continue;
    }
    if (text.substr(i).starts_with("${")) {
      auto end = text.find('}', i);
      std::string_view name = text.substr(i, end == std::string_view::npos ? 20 : end + 1 - i);
      if (end == std::string_view::npos || name.find(':') == std::string_view::npos) {
        return Fail(ErrorCode::kInvalidArgument,
                    "unknown policy variable " + std::string(name) +
                        " (known: ${app} ${uid} ${username} ${userid} ${account_id} ${region} "
                        "${idp} ${claim:NAME})");
      }
      literal.append(name);  // an IAM policy variable such as ${aws:username}: IAM's business
      i += name.size();
      continue;
    }
    char c = text[i++];
    if (escaped) {
      escaped = false;
    } else if (in_string && c == '\\') {
      escaped = true;
    } else if (c == '"') {
      in_string = !in_string;
    }
    literal += c;
  }
  if (!literal.empty()) {
    segments.push_back({std::move(literal), nullptr, ""});
  }
  return segments;
}

std::string Join(const std::vector<Template::Segment>& segments, const Vars& vars) {
  std::string out;
  out.reserve(512);
  for (const auto& seg : segments) {
    if (!seg.claim.empty()) {
      const std::string* value = FindSorted(vars.claims, seg.claim);
      AppendJsonEscaped(out, value != nullptr ? *value : std::string_view());
    } else if (seg.field == nullptr) {
      out += seg.literal;
    } else {
      AppendJsonEscaped(out, vars.*(seg.field));
    }
  }
  return out;
}

// The longest values the protocol lets through, each character chosen to need escaping where
// that makes it longer (a username of 128 four-byte characters is 512 bytes).
// A claim is at most kMaxClaimBytes with nothing to escape; ${idp} is a provider's name (64).
Vars LongestVars(const std::vector<Template::Segment>& segments) {
  Vars v{std::string(64, 'a'),
         std::string(128, '"'),
         std::string(std::size_t{128} * 4, 'x'),
         std::string(32, 'f'),
         std::string(32, 'r'),
         std::string(12, '1'),
         std::string(64, 'i'),
         {}};
  for (const auto& seg : segments) {
    if (!seg.claim.empty() && FindSorted(v.claims, seg.claim) == nullptr) {
      v.claims.emplace_back(seg.claim, std::string(kMaxClaimBytes, 'c'));
      std::sort(v.claims.begin(), v.claims.end());
    }
  }
  return v;
}

std::string_view NameOf(std::string Vars::*field) {
  for (const Binding& b : kBindings) {
    if (b.field == field) {
      return b.token;
    }
  }
  return "a variable";
}

bool IsWildcard(char c) { return c == '*' || c == '?'; }

}  // namespace

bool IsSafeValue(std::string_view value) {
  return value.find_first_of("*?$/") == std::string_view::npos;
}

std::vector<std::string> Template::Warnings() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (!segments_[i].variable()) {
      continue;
    }
    const std::string* before = i > 0 ? &segments_[i - 1].literal : nullptr;
    const std::string* after = i + 1 < segments_.size() ? &segments_[i + 1].literal : nullptr;
    bool wild_before = before != nullptr && !before->empty() && IsWildcard(before->back());
    bool wild_after = after != nullptr && !after->empty() && IsWildcard(after->front());
    if (wild_before || wild_after) {
      std::string name = segments_[i].claim.empty() ? std::string(NameOf(segments_[i].field))
                                                    : "${claim:" + segments_[i].claim + "}";
      std::string shown = wild_before ? before->back() + name : name + after->front();
      std::string warning = name;
      warning += R"( stands next to a wildcard (")";
      warning += shown;
      warning += R"("): the value "a" would also match "ab"; put a "/" between the variable )"
                 "and the wildcard";
      out.push_back(std::move(warning));
    }
  }
  return out;
}

std::vector<std::string> Template::Claims() const {
  std::vector<std::string> out;
  for (const auto& seg : segments_) {
    if (!seg.claim.empty()) {
      out.push_back(seg.claim);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string MinifyJson(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false;
  bool escaped = false;
  for (char c : json) {
    if (in_string) {
      out.push_back(c);
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

Result<Template> Template::Parse(std::string_view text) {
  std::string minified = MinifyJson(text);
  auto segments = Split(minified);
  if (!segments) {
    return std::unexpected(segments.error());
  }
  Vars sample{"sample-app",  "sample-device-0123456789abcdef",
              "sample.user", "0123456789abcdef0123456789abcdef",
              "us-east-1",   "123456789012",
              "sample-idp",  {}};
  boost::system::error_code ec;
  auto doc = boost::json::parse(Join(*segments, sample), ec);
  if (ec || !doc.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "policy is not a JSON object after substitution");
  }
  std::size_t worst = Join(*segments, LongestVars(*segments)).size();
  if (worst > kMaxPolicyBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "policy can reach " + std::to_string(worst) + " bytes with the longest allowed " +
                    "values; STS allows " + std::to_string(kMaxPolicyBytes));
  }
  return Template(std::move(minified), std::move(*segments), worst);
}

Result<std::string> Template::Render(const Vars& vars) const {
  // Escaping keeps every value inside its JSON string; bytes that are not UTF-8 would still
  // make the document invalid, so they are refused (the 2012 validators never let them in).
  for (const std::string* v : {&vars.app, &vars.uid, &vars.username, &vars.user_id, &vars.region,
                               &vars.account_id, &vars.idp}) {
    if (!IsValidUtf8(*v)) {
      return Fail(ErrorCode::kInvalidArgument, "a policy variable's value is not UTF-8");
    }
  }
  for (const auto& seg : segments_) {
    if (!seg.claim.empty()) {
      const std::string* value = FindSorted(vars.claims, seg.claim);
      if (value == nullptr) {
        return Fail(ErrorCode::kPermissionDenied,
                    "the ID token has no " + seg.claim + " claim, which the policy uses");
      }
      if (!IsTemplateClaim(*value)) {
        return Fail(ErrorCode::kPermissionDenied,
                    "the " + seg.claim + " claim is too long or holds * ? $ / a quote, a " +
                        "backslash or a control character, which could widen the policy");
      }
      continue;
    }
    if (seg.field != nullptr && !IsSafeValue(vars.*(seg.field))) {
      return Fail(ErrorCode::kPermissionDenied,
                  "the value of " + std::string(NameOf(seg.field)) +
                      " holds * ? $ or /, which could widen the policy");
    }
  }
  std::string out = Join(segments_, vars);
  if (out.size() > kMaxPolicyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "rendered policy is too long");
  }
  return out;
}

std::string DefaultDevPolicy(bool per_user) {
  std::string who = per_user ? "${username}" : "${uid}";
  return R"({"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],
  "Resource":"arn:aws:s3:::vendo-${app}/)" +
         who + R"(/*"},
 {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::vendo-${app}",
  "Condition":{"StringLike":{"s3:prefix":")" +
         who + R"(/*"}}}]})";
}

}  // namespace vendo::policy
