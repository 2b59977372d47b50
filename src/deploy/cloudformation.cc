#include "deploy/cloudformation.h"

#include <future>
#include <pugixml.hpp>

#include "sts/sts_xml.h"

namespace vendo::deploy {
namespace {

constexpr const char* kVersion = "2010-05-15";

// Form parameters as botocore writes them (spaces as '+'): see sts::FormSpace.
void Param(std::string& form, std::string_view key, std::string_view value) {
  sts::AppendFormParam(form, key, value, sts::FormSpace::kPlus);
}

std::string Text(const pugi::xml_node& node, const char* child) {
  return node.child(child).text().as_string();
}

bool Load(pugi::xml_document& doc, std::string_view xml) {
  return static_cast<bool>(doc.load_buffer(xml.data(), xml.size(), pugi::parse_default));
}

std::string Form(const char* action, const std::string& name) {
  std::string form;
  Param(form, "Action", action);
  Param(form, "Version", kVersion);
  Param(form, "StackName", name);
  return form;
}

void AppendStack(std::string& form, const std::string& template_body,
                 const std::vector<StackParameter>& parameters, const std::string& token) {
  Param(form, "ClientRequestToken", token);
  Param(form, "TemplateBody", template_body);
  // The template creates an IAM user, roles and an instance profile with generated names.
  Param(form, "Capabilities.member.1", "CAPABILITY_IAM");
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    std::string prefix = "Parameters.member." + std::to_string(i + 1);
    Param(form, prefix + ".ParameterKey", parameters[i].key);
    if (parameters[i].use_previous) {
      Param(form, prefix + ".UsePreviousValue", "true");
    } else {
      Param(form, prefix + ".ParameterValue", parameters[i].value);
    }
  }
}

}  // namespace

Result<std::vector<StackInfo>> ParseDescribeStacks(std::string_view xml) {
  pugi::xml_document doc;
  if (!Load(doc, xml)) {
    return Fail(ErrorCode::kInternal, "unreadable DescribeStacks response");
  }
  std::vector<StackInfo> stacks;
  auto list = doc.child("DescribeStacksResponse").child("DescribeStacksResult").child("Stacks");
  for (auto member : list.children("member")) {
    StackInfo s;
    s.id = Text(member, "StackId");
    s.name = Text(member, "StackName");
    s.status = Text(member, "StackStatus");
    s.reason = Text(member, "StackStatusReason");
    for (auto param : member.child("Parameters").children("member")) {
      s.parameter_keys.push_back(Text(param, "ParameterKey"));
    }
    for (auto out : member.child("Outputs").children("member")) {
      s.outputs.push_back(
          {Text(out, "OutputKey"), Text(out, "OutputValue"), Text(out, "Description")});
    }
    stacks.push_back(std::move(s));
  }
  return stacks;
}

Result<std::vector<StackEvent>> ParseStackEvents(std::string_view xml) {
  pugi::xml_document doc;
  if (!Load(doc, xml)) {
    return Fail(ErrorCode::kInternal, "unreadable DescribeStackEvents response");
  }
  std::vector<StackEvent> events;
  auto list = doc.child("DescribeStackEventsResponse")
                  .child("DescribeStackEventsResult")
                  .child("StackEvents");
  for (auto member : list.children("member")) {
    events.push_back({Text(member, "EventId"), Text(member, "Timestamp"),
                      Text(member, "LogicalResourceId"), Text(member, "ResourceType"),
                      Text(member, "ResourceStatus"), Text(member, "ResourceStatusReason")});
  }
  return events;
}

Result<std::string> PostQuery(sts::StsClient& client, sts::CredentialProvider& credentials,
                              const sts::StsEndpoint& endpoint, const std::string& service,
                              const std::string& form) {
  std::promise<Result<sts::CallerCredentials>> got_creds;
  credentials.Fetch([&](Result<sts::CallerCredentials> c) { got_creds.set_value(std::move(c)); });
  auto creds = got_creds.get_future().get();
  if (!creds) {
    return std::unexpected(creds.error());
  }
  std::promise<Result<std::string>> reply;
  client.Post(endpoint, creds->signing, service, form,
              [&](Result<std::string> body) { reply.set_value(std::move(body)); });
  return reply.get_future().get();
}

Result<std::string> ParseDefaultVpc(std::string_view xml) {
  pugi::xml_document doc;
  if (!Load(doc, xml)) {
    return Fail(ErrorCode::kInternal, "unreadable DescribeVpcs response");
  }
  for (auto item : doc.child("DescribeVpcsResponse").child("vpcSet").children("item")) {
    if (std::string(Text(item, "isDefault")) == "true") {
      return Text(item, "vpcId");
    }
  }
  return Fail(ErrorCode::kNotFound,
              "the account has no default VPC in this region: give --vpc-id and --subnet-ids");
}

Result<std::vector<std::string>> ParseSubnetIds(std::string_view xml) {
  pugi::xml_document doc;
  if (!Load(doc, xml)) {
    return Fail(ErrorCode::kInternal, "unreadable DescribeSubnets response");
  }
  std::vector<std::string> ids;
  for (auto item : doc.child("DescribeSubnetsResponse").child("subnetSet").children("item")) {
    ids.push_back(Text(item, "subnetId"));
  }
  return ids;
}

Result<Network> DefaultNetwork(sts::StsClient& client, sts::CredentialProvider& credentials,
                               const sts::StsEndpoint& ec2_endpoint) {
  constexpr const char* kEc2Version = "2016-11-15";
  std::string vpcs;
  Param(vpcs, "Action", "DescribeVpcs");
  Param(vpcs, "Version", kEc2Version);
  Param(vpcs, "Filter.1.Name", "isDefault");
  Param(vpcs, "Filter.1.Value.1", "true");
  auto vpc_body = PostQuery(client, credentials, ec2_endpoint, "ec2", vpcs);
  if (!vpc_body) {
    return std::unexpected(vpc_body.error());
  }
  auto vpc = ParseDefaultVpc(*vpc_body);
  if (!vpc) {
    return std::unexpected(vpc.error());
  }
  std::string subnets;
  Param(subnets, "Action", "DescribeSubnets");
  Param(subnets, "Version", kEc2Version);
  Param(subnets, "Filter.1.Name", "vpc-id");
  Param(subnets, "Filter.1.Value.1", *vpc);
  Param(subnets, "Filter.2.Name", "default-for-az");
  Param(subnets, "Filter.2.Value.1", "true");
  auto subnet_body = PostQuery(client, credentials, ec2_endpoint, "ec2", subnets);
  if (!subnet_body) {
    return std::unexpected(subnet_body.error());
  }
  auto ids = ParseSubnetIds(*subnet_body);
  if (!ids) {
    return std::unexpected(ids.error());
  }
  if (ids->size() < 2) {
    return Fail(
        ErrorCode::kFailedPrecondition,
        "the default VPC " + *vpc + " has fewer than two default subnets: give --subnet-ids");
  }
  return Network{*vpc, std::move(*ids)};
}

Result<std::string> CloudFormation::Call(const std::string& form) {
  return PostQuery(client_, credentials_, endpoint_, "cloudformation", form);
}

Result<std::optional<StackInfo>> CloudFormation::Describe(const std::string& name) {
  auto body = Call(Form("DescribeStacks", name));
  if (!body) {
    if (body.error().message.find("does not exist") != std::string::npos) {
      return std::optional<StackInfo>();
    }
    return std::unexpected(body.error());
  }
  auto stacks = ParseDescribeStacks(*body);
  if (!stacks) {
    return std::unexpected(stacks.error());
  }
  if (stacks->empty()) {
    return std::optional<StackInfo>();
  }
  return std::optional<StackInfo>(std::move(stacks->front()));
}

Result<std::string> CloudFormation::Create(const std::string& name,
                                           const std::string& template_body,
                                           const std::vector<StackParameter>& parameters) {
  std::string form = Form("CreateStack", name);
  AppendStack(form, template_body, parameters, request_token_);
  auto body = Call(form);
  if (!body) {
    return std::unexpected(body.error());
  }
  pugi::xml_document doc;
  Load(doc, *body);
  return std::string(doc.child("CreateStackResponse")
                         .child("CreateStackResult")
                         .child("StackId")
                         .text()
                         .as_string());
}

Result<bool> CloudFormation::Update(const std::string& name, const std::string& template_body,
                                    const std::vector<StackParameter>& parameters) {
  std::string form = Form("UpdateStack", name);
  AppendStack(form, template_body, parameters, request_token_);
  auto body = Call(form);
  if (!body) {
    if (body.error().message.find("No updates are to be performed") != std::string::npos) {
      return false;
    }
    return std::unexpected(body.error());
  }
  return true;
}

Status CloudFormation::Delete(const std::string& name) {
  std::string form = Form("DeleteStack", name);
  Param(form, "ClientRequestToken", request_token_);
  auto body = Call(form);
  if (!body) {
    return std::unexpected(body.error());
  }
  return {};
}

Result<std::vector<StackEvent>> CloudFormation::Events(const std::string& name) {
  auto body = Call(Form("DescribeStackEvents", name));
  if (!body) {
    return std::unexpected(body.error());
  }
  return ParseStackEvents(*body);
}

}  // namespace vendo::deploy
