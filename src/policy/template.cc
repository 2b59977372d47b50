#include "policy/template.h"

#include <boost/json.hpp>

#include "common/log.h"

namespace vendo::policy {
namespace {

struct Binding {
  std::string_view token;
  std::string Vars::*field;
};

constexpr Binding kBindings[] = {
    {"{{app}}", &Vars::app},
    {"{{device}}", &Vars::device},
    {"{{username}}", &Vars::username},
    {"{{region}}", &Vars::region},
    {"{{account_id}}", &Vars::account_id},
    {"__USERNAME__", &Vars::username},
    {"__REGION__", &Vars::region},
    {"__ACCOUNT_ID__", &Vars::account_id},
};

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
  for (std::size_t i = 0; i < text.size();) {
    if (const Binding* b = MatchAt(text, i)) {
      if (!literal.empty()) {
        segments.push_back({std::move(literal), nullptr});
        literal.clear();
      }
      segments.push_back({"", b->field});
      i += b->token.size();
      continue;
    }
    if (text.substr(i).starts_with("{{")) {
      auto end = text.find("}}", i);
      std::string name(text.substr(i, end == std::string_view::npos ? 20 : end + 2 - i));
      return Fail(ErrorCode::kInvalidArgument, "unknown policy variable " + name);
    }
    literal += text[i++];
  }
  if (!literal.empty()) {
    segments.push_back({std::move(literal), nullptr});
  }
  return segments;
}

std::string Join(const std::vector<Template::Segment>& segments, const Vars& vars) {
  std::string out;
  out.reserve(512);
  for (const auto& seg : segments) {
    if (seg.field == nullptr) {
      out += seg.literal;
    } else {
      AppendJsonEscaped(out, vars.*(seg.field));
    }
  }
  return out;
}

}  // namespace

Result<Template> Template::Parse(std::string text) {
  auto segments = Split(text);
  if (!segments) {
    return std::unexpected(segments.error());
  }
  Vars sample{"sample-app", "sample-device-0123456789abcdef", "sample.user", "us-east-1",
              "123456789012"};
  std::string rendered = Join(*segments, sample);
  boost::system::error_code ec;
  auto doc = boost::json::parse(rendered, ec);
  if (ec || !doc.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "policy is not a JSON object after substitution");
  }
  if (rendered.size() > kMaxPolicyBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "policy is longer than " + std::to_string(kMaxPolicyBytes) + " bytes");
  }
  return Template(std::move(text), std::move(*segments));
}

Result<std::string> Template::Render(const Vars& vars) const {
  std::string out = Join(segments_, vars);
  if (out.size() > kMaxPolicyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "rendered policy is too long");
  }
  return out;
}

std::string DefaultDevPolicy(bool per_user) {
  std::string text = R"({"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],
  "Resource":"arn:aws:s3:::vendo-{{app}}/{{device}}/*"},
 {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::vendo-{{app}}",
  "Condition":{"StringLike":{"s3:prefix":"{{device}}/*"}}}]})";
  if (per_user) {
    for (auto pos = text.find("{{device}}"); pos != std::string::npos;
         pos = text.find("{{device}}", pos)) {
      text.replace(pos, 10, "{{username}}");
    }
  }
  return text;
}

}  // namespace vendo::policy
