// StsIssuer: credentials from AWS STS or an STS-compatible server (Ceph RGW, MinIO).
//
//  - aws-federation: GetFederationToken(Name = the session name, Policy = the rendered
//    policy). Names up to 32 characters; durations 900 to 129600 s.
//  - aws-assume-role: AssumeRole(RoleArn, RoleSessionName, Policy, session tags vendo:app,
//    vendo:device and vendo:user, optional SourceIdentity and ExternalId). Names up to 64
//    characters; durations 900 to 43200 s.
//
// The caller's own credentials come from a CredentialProvider. Every STS call is logged
// once, with the session name it used and, on failure, STS's code and request id; nothing
// from STS reaches a device.
#pragma once

#include <optional>

#include "issuer/issuer.h"
#include "sts/credential_provider.h"
#include "sts/sts_client.h"

namespace vendo::issuer {

struct StsIssuerOptions {
  enum class Action { kGetFederationToken, kAssumeRole };
  Action action = Action::kAssumeRole;
  sts::StsEndpoint endpoint;
  std::string role_arn;         // AssumeRole
  std::string external_id;      // AssumeRole, optional
  std::string source_identity;  // AssumeRole, optional name template (session_name.h)
  bool session_tags = true;     // AssumeRole
};

// STS's limits on session tags: keys up to 128 characters, values up to 256, drawn from
// letters, digits, spaces and _.:/=+-@. A value outside them is refused (nullopt), never
// rewritten: two callers must never share a tag value that a policy could scope by.
std::optional<std::string> TagValue(std::string_view raw);

class StsIssuer final : public Issuer {
 public:
  StsIssuer(sts::StsClient& client, sts::CredentialProvider& caller, const Clock& clock,
            StsIssuerOptions options)
      : client_(client), caller_(caller), clock_(clock), options_(std::move(options)) {}

  void Issue(IssueRequest request, IssueCallback done) override;
  std::string_view Kind() const override;
  std::size_t MaxSessionNameLength() const override;
  [[nodiscard]] Status Ready() override;
  bool BindsDevice() const override {
    return options_.action == StsIssuerOptions::Action::kAssumeRole && options_.session_tags;
  }

  // The AssumeRole form body for `request` (exposed for tests).
  [[nodiscard]] Result<std::string> AssumeRoleBody(const IssueRequest& request) const;

 private:
  void Call(const IssueRequest& request, const sts::SigningCredentials& caller, IssueCallback done);

  sts::StsClient& client_;
  sts::CredentialProvider& caller_;
  const Clock& clock_;
  StsIssuerOptions options_;
};

}  // namespace vendo::issuer
