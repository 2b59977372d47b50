// Policy templates: an IAM policy document with per-caller variables, not code.
//
// Variables: ${app}, ${uid}, ${username}, ${userid}, ${account_id}, ${region}; in federated
// apps also ${idp} (the identity provider's name) and ${claim:NAME} (a claim of the verified
// ID token: ${claim:sub}, ${claim:email}, ...). The 2012 placeholders __USERNAME__,
// __REGION__ and __ACCOUNT_ID__ are accepted too, so 2012 policy files work unchanged. IAM's own
// policy variables (anything with a colon, such as
// ${aws:username}) are left for IAM; any other ${name} is an error. Values are substituted as
// JSON-escaped strings, so no value can change the policy's structure.
//
// No value can widen what the template grants either: a value holding one of IAM's special
// characters (`*` and `?`, wildcards in ARNs and StringLike conditions; `$`, which starts a
// policy variable) or a path separator (`/`, which would reach into another caller's prefix)
// is refused at Render (IsSafeValue). The validators of uids and usernames refuse the same
// characters at registration, so only a record written before that rule can hit it. vendo
// refuses rather than escaping as ${*}: not every STS-compatible engine knows the escapes.
// A claim's value is the provider's, not vendo's to validate at registration, so it is held
// to more at Render: at most kMaxClaimBytes of UTF-8, without control characters, quotes or
// backslashes, and a claim the token lacks refuses the vend.
//
// At Parse the template is minified (whitespace outside strings removed, as STS counts the
// packed size), must be a JSON object, and must fit STS's limit when every variable holds
// its longest allowed value.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vendo/result.h"

namespace vendo::policy {

inline constexpr std::size_t kMaxPolicyBytes = 2048;  // STS's limit for an inline policy
inline constexpr std::size_t kMaxClaimBytes = 256;    // a claim's value in a template

struct Vars {
  std::string app;
  std::string uid;
  std::string username;  // empty in anonymous mode
  std::string user_id;   // empty in anonymous mode
  std::string region;
  std::string account_id;
  std::string idp;  // federated apps: the provider's name
  // Federated apps: the ID token's claims, sorted by name.
  std::vector<std::pair<std::string, std::string>> claims;
};

class Template {
 public:
  // Parses and checks a template; the error names the problem.
  [[nodiscard]] static Result<Template> Parse(std::string_view text);

  [[nodiscard]] Result<std::string> Render(const Vars& vars) const;
  // The minified template text.
  const std::string& text() const { return text_; }
  // Size of the rendering with every variable at its longest allowed value.
  std::size_t WorstCaseBytes() const { return worst_case_bytes_; }
  // Where the template lets a value act as more than itself, for `vendo config check`: a
  // variable next to a wildcard (`${uid}*` grants uid "a" everything of uid "ab").
  std::vector<std::string> Warnings() const;
  // The claims the template uses (${claim:NAME}), sorted, without repeats.
  std::vector<std::string> Claims() const;

  // A run of literal text, or one variable: a field of Vars, or (`claim` set) a claim.
  struct Segment {
    std::string literal;
    std::string Vars::*field = nullptr;
    std::string claim;
    bool variable() const { return field != nullptr || !claim.empty(); }
  };

 private:
  Template(std::string text, std::vector<Segment> segments, std::size_t worst)
      : text_(std::move(text)), segments_(std::move(segments)), worst_case_bytes_(worst) {}
  std::string text_;
  std::vector<Segment> segments_;  // the text split once, at Parse, so Render only copies
  std::size_t worst_case_bytes_ = 0;
};

// A claim name ${claim:NAME} may use: 1-64 letters, digits, '_', '-' or '.'.
bool IsClaimName(std::string_view name);

// False when `value` holds a character that could widen a policy it is substituted into:
// `*`, `?`, `$` or `/`.
bool IsSafeValue(std::string_view value);

// Removes whitespace outside JSON strings.
std::string MinifyJson(std::string_view json);

// The policy the dev apps vend: objects under one S3 prefix per caller (the uid in anonymous
// apps, the user in identity apps), like the 2012 "personal file store" examples.
std::string DefaultDevPolicy(bool per_user);

}  // namespace vendo::policy
