// Policy templates: an IAM policy document with per-caller variables, not code.
//
// Variables are written {{name}}; the known names are app, device, username, region and
// account_id. The 2012 placeholders __USERNAME__, __REGION__ and __ACCOUNT_ID__ are accepted
// too, so 2012 policy files work unchanged. Substituted values are JSON-string-escaped, so a
// value cannot break out of its string. A rendered policy must be valid JSON.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vendo/result.h"

namespace vendo::policy {

inline constexpr std::size_t kMaxPolicyBytes = 2048;  // STS packed-policy limit for inline JSON

struct Vars {
  std::string app;
  std::string device;
  std::string username;  // empty in anonymous mode
  std::string region;
  std::string account_id;
};

class Template {
 public:
  // Parses and checks a template: every variable is known, and rendering it with sample
  // values gives valid JSON. Problems are returned as one message each.
  static Result<Template> Parse(std::string text);

  Result<std::string> Render(const Vars& vars) const;
  const std::string& text() const { return text_; }

  // A run of literal text, or (when `field` is set) one variable.
  struct Segment {
    std::string literal;
    std::string Vars::*field = nullptr;
  };

 private:
  Template(std::string text, std::vector<Segment> segments)
      : text_(std::move(text)), segments_(std::move(segments)) {}
  std::string text_;
  std::vector<Segment> segments_;  // the text split once, at Parse, so Render only copies
};

// The policy the dev apps vend: objects under one S3 prefix per caller (the device in
// anonymous apps, the user in identity apps), like the 2012 "personal file store" examples.
std::string DefaultDevPolicy(bool per_user);

}  // namespace vendo::policy
