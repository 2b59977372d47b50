// A small CloudFormation client for `vendo deploy`: create, update, describe and delete one
// stack, and read its events. Query API over the STS client's signed, retried POST; calls
// block (the CLI has nothing else to do meanwhile).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sts/credential_provider.h"
#include "sts/sts_client.h"

namespace vendo::deploy {

struct StackParameter {
  std::string key;
  std::string value;
  bool use_previous = false;  // updates: keep the value the stack has
};

struct StackOutput {
  std::string key;
  std::string value;
  std::string description;
};

struct StackInfo {
  std::string id;
  std::string name;
  std::string status;  // CREATE_COMPLETE, ROLLBACK_IN_PROGRESS, ...
  std::string reason;
  std::vector<StackOutput> outputs;
  std::vector<std::string> parameter_keys;  // the parameters the stack holds values for
  bool InProgress() const { return status.ends_with("_IN_PROGRESS"); }
  // A finished state that is not what was asked for (rollbacks, failures).
  bool Failed() const {
    return status.find("FAILED") != std::string::npos ||
           status.find("ROLLBACK") != std::string::npos;
  }
};

struct StackEvent {
  std::string id;
  std::string timestamp;
  std::string logical_id;
  std::string resource_type;
  std::string status;
  std::string reason;
};

// One signed Query API call, blocking: credentials from `credentials`, the 200 body back.
[[nodiscard]] Result<std::string> PostQuery(sts::StsClient& client,
                                            sts::CredentialProvider& credentials,
                                            const sts::StsEndpoint& endpoint,
                                            const std::string& service, const std::string& form);

// The account's default VPC and its default subnets (one per Availability Zone), which the
// template needs when the user names none: EC2 DescribeVpcs and DescribeSubnets.
struct Network {
  std::string vpc_id;
  std::vector<std::string> subnet_ids;
};
[[nodiscard]] Result<Network> DefaultNetwork(sts::StsClient& client,
                                             sts::CredentialProvider& credentials,
                                             const sts::StsEndpoint& ec2_endpoint);
[[nodiscard]] Result<std::string> ParseDefaultVpc(std::string_view xml);
[[nodiscard]] Result<std::vector<std::string>> ParseSubnetIds(std::string_view xml);

// Pure parsers of the Query API's XML (tested on their own).
[[nodiscard]] Result<std::vector<StackInfo>> ParseDescribeStacks(std::string_view xml);
[[nodiscard]] Result<std::vector<StackEvent>> ParseStackEvents(
    std::string_view xml);  // newest first

class CloudFormation {
 public:
  // `request_token`: sent as ClientRequestToken with every change, so that a retried call
  // (after a timeout or a 5xx) is not carried out twice.
  CloudFormation(sts::StsClient& client, sts::CredentialProvider& credentials,
                 sts::StsEndpoint endpoint, std::string request_token)
      : client_(client),
        credentials_(credentials),
        endpoint_(std::move(endpoint)),
        request_token_(std::move(request_token)) {}

  // nullopt when there is no such stack.
  [[nodiscard]] Result<std::optional<StackInfo>> Describe(const std::string& name);
  [[nodiscard]] Result<std::string> Create(const std::string& name,
                                           const std::string& template_body,
                                           const std::vector<StackParameter>& parameters);
  // false when there is nothing to update.
  [[nodiscard]] Result<bool> Update(const std::string& name, const std::string& template_body,
                                    const std::vector<StackParameter>& parameters);
  [[nodiscard]] Status Delete(const std::string& name);
  [[nodiscard]] Result<std::vector<StackEvent>> Events(const std::string& name);

 private:
  [[nodiscard]] Result<std::string> Call(const std::string& form);

  sts::StsClient& client_;
  sts::CredentialProvider& credentials_;
  sts::StsEndpoint endpoint_;
  std::string request_token_;
};

}  // namespace vendo::deploy
