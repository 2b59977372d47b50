#include "issuer/sts_issuer.h"

#include "common/log.h"
#include "issuer/session_name.h"

namespace vendo::issuer {
namespace {

constexpr std::size_t kMaxTagValue = 256;

bool IsTagChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
         c == '_' || c == '.' || c == ':' || c == '/' || c == '=' || c == '+' || c == '-' ||
         c == '@';
}

bool IsFederation(const StsIssuerOptions& o) {
  return o.action == StsIssuerOptions::Action::kGetFederationToken;
}

constexpr int kPackedWarnPercent = 90;

}  // namespace

std::optional<std::string> TagValue(std::string_view raw) {
  std::size_t characters = 0;
  for (char c : raw) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80 && !IsTagChar(c)) {
      return std::nullopt;
    }
    characters += (byte & 0xc0) != 0x80 ? 1 : 0;  // UTF-8 continuation bytes add none
  }
  if (characters > kMaxTagValue) {
    return std::nullopt;
  }
  return std::string(raw);
}

std::string_view StsIssuer::Kind() const {
  return IsFederation(options_) ? "aws-federation" : "aws-assume-role";
}

Status StsIssuer::Ready() {
  if (!caller_.Ready()) {
    return Fail(ErrorCode::kUnavailable, std::string(Kind()) + ": no valid AWS credentials");
  }
  return {};
}

std::size_t StsIssuer::MaxSessionNameLength() const { return IsFederation(options_) ? 32 : 64; }

Result<std::string> StsIssuer::AssumeRoleBody(const IssueRequest& request) const {
  std::vector<sts::Tag> tags;
  auto add_tag = [&tags](std::string_view key, std::string_view raw) -> Status {
    auto value = TagValue(raw);
    if (!value) {
      return Fail(ErrorCode::kPermissionDenied,
                  "the value of session tag " + std::string(key) + " cannot be sent as it is");
    }
    tags.push_back({std::string(key), std::move(*value)});
    return {};
  };
  if (options_.session_tags) {
    VENDO_RETURN_IF_ERROR(add_tag("vendo:app", request.app));
    VENDO_RETURN_IF_ERROR(add_tag("vendo:device", request.device_id));
    if (request.username) {
      VENDO_RETURN_IF_ERROR(add_tag("vendo:user", *request.username));
    }
  }
  for (const auto& [key, value] : request.session_tags) {
    VENDO_RETURN_IF_ERROR(add_tag(key, value));
  }
  std::string source_identity;
  if (!options_.source_identity.empty()) {
    auto expanded = ExpandName(options_.source_identity,
                               {request.app, request.device_id, request.username.value_or(""), ""});
    if (!expanded) {
      return std::unexpected(expanded.error());
    }
    if (!expanded->empty()) {  // ${username} of an anonymous device: none
      source_identity = MakeSessionName(*expanded, 64);
    }
  }
  const std::string& role = request.role_arn.empty() ? options_.role_arn : request.role_arn;
  return sts::AssumeRoleForm(role, request.session_name, request.policy, request.duration, tags,
                             source_identity, options_.external_id);
}

void StsIssuer::Issue(IssueRequest request, IssueCallback done) {
  auto shared = std::make_shared<IssueRequest>(std::move(request));
  caller_.Fetch(
      [this, shared, done = std::move(done)](Result<sts::CallerCredentials> caller) mutable {
        if (!caller) {
          LogLine(LogLevel::kError, "issuer has no AWS credentials")
              .Str("app", shared->app)
              .Str("issuer", Kind())
              .Str("error", caller.error().message)
              .Emit();
          done(Fail(ErrorCode::kUnavailable, "issuer credentials: " + caller.error().message));
          return;
        }
        Call(*shared, caller->signing, std::move(done));
      });
}

void StsIssuer::Call(const IssueRequest& request, const sts::SigningCredentials& caller,
                     IssueCallback done) {
  auto started = clock_.Now();
  auto finish = [this, started, app = request.app, device = request.device_id,
                 user = request.username.value_or(""), name = request.session_name,
                 done = std::move(done)](Result<sts::IssuedCredentials> result) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - started);
    // One line per STS call: the session name is what CloudTrail shows, so this is where an
    // operator maps it back to a device or user.
    LogLine line(result ? LogLevel::kInfo : LogLevel::kWarn,
                 result ? "sts call" : "sts call failed");
    line.Str("app", app).Str("issuer", Kind()).Str("session_name", name).Str("device", device);
    if (!user.empty()) {
      line.Str("user", user);
    }
    line.Int("ms", ms.count());
    if (!result) {
      line.Str("code", ErrorCodeName(result.error().code)).Str("error", result.error().message);
      line.Emit();
      done(std::unexpected(std::move(result.error())));
      return;
    }
    std::optional<int> packed = result->packed_policy_percent;
    if (packed) {
      line.Int("packed_policy_percent", *packed);
    }
    line.Emit();
    // STS packs the session policy and tags by rules it does not publish, so no check at
    // config load can promise a fit: its answer says how close this identity came.
    if (packed && *packed >= kPackedWarnPercent) {
      LogLine(LogLevel::kWarn, "session policy and tags near STS's packed size limit")
          .Str("app", app)
          .Str("device", device)
          .Int("packed_policy_percent", *packed)
          .Emit();
    }
    done(std::move(result->credentials));
  };
  if (IsFederation(options_)) {
    client_.GetFederationToken(options_.endpoint, caller, request.session_name, request.policy,
                               request.duration, std::move(finish));
    return;
  }
  auto body = AssumeRoleBody(request);
  if (!body) {
    finish(std::unexpected(body.error()));
    return;
  }
  client_.AssumeRole(options_.endpoint, caller, std::move(*body), std::move(finish));
}

}  // namespace vendo::issuer
