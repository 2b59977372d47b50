// `vendo deploy`, `vendo deploy status`, `vendo undeploy`: the CloudFormation stack of
// deploy/cloudformation/vendo.yaml, created or updated and waited for, with progress.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ranges>
#include <set>
#include <sstream>
#include <thread>

#include "cli/command.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/random.h"
#include "deploy/cloudformation.h"
#include "deploy/s3_object.h"
#include "net/http_client.h"
#include "net/url.h"
#include "policy/template.h"

namespace vendo::cli {
namespace {

constexpr std::size_t kMaxTemplateBody = 51200;  // CloudFormation's TemplateBody limit

// Everything the command needs, built once (the composition root of `vendo deploy`).
struct Session {
  std::unique_ptr<net::HttpClient> http;
  SystemClock clock;
  OsRandom random;
  std::unique_ptr<sts::CredentialProvider> credentials;
  std::unique_ptr<sts::StsClient> client;
  std::unique_ptr<deploy::CloudFormation> cfn;
  sts::StsEndpoint ec2;
  sts::StsEndpoint s3;
};

Result<std::unique_ptr<Session>> Connect(const DeployOptions& o) {
  auto s = std::make_unique<Session>();
  auto http = net::HttpClient::Create({});
  if (!http) {
    return std::unexpected(http.error());
  }
  s->http = std::move(*http);
  s->credentials = sts::DefaultChain(*s->http, sts::ProcessEnvironment(), o.profile);
  sts::RetryPolicy retry;
  retry.deadline = std::chrono::seconds(30);
  retry.attempt_timeout = std::chrono::seconds(20);
  retry.max_attempts = 5;
  s->client = std::make_unique<sts::StsClient>(*s->http, *s->http, s->clock, s->random, retry);
  sts::StsEndpoint endpoint{"cloudformation." + o.region + ".amazonaws.com", 443, true, o.region};
  s->ec2 = {"ec2." + o.region + ".amazonaws.com", 443, true, o.region};
  s->s3 = {"s3." + o.region + ".amazonaws.com", 443, true, o.region};
  if (!o.endpoint_url.empty()) {
    auto url = net::ParseHttpUrl(o.endpoint_url);
    if (!url) {
      return Fail(ErrorCode::kInvalidArgument, "--endpoint-url: " + url.error().message);
    }
    endpoint = {url->host, url->port, url->tls, o.region};
    s->ec2 = endpoint;  // a local stand-in (moto_server) serves every API on one address
    s->s3 = endpoint;
  }
  s->cfn = std::make_unique<deploy::CloudFormation>(*s->client, *s->credentials, endpoint,
                                                    "vendo-" + s->random.Hex(16));
  return s;
}

std::string ReadFile(const std::string& path, bool& ok) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  ok = static_cast<bool>(in);
  return ss.str();
}

std::string TemplatePath(const DeployOptions& o) {
  if (!o.template_file.empty()) {
    return o.template_file;
  }
  for (const char* candidate : {"/usr/share/vendo/cloudformation/vendo.yaml",
                                VENDO_SOURCE_DIR "/deploy/cloudformation/vendo.yaml"}) {
    if (std::filesystem::exists(candidate)) {
      return candidate;
    }
  }
  return "deploy/cloudformation/vendo.yaml";
}

// Prints the outputs and the URL; false when the URL names no host (a single host that got
// no public address: CloudFormation then gives "http://", some stand-ins "http://None").
bool PrintOutputs(const deploy::StackInfo& stack) {
  for (const auto& out : stack.outputs) {
    std::printf("  %-22s %s\n", out.key.c_str(), out.value.c_str());
  }
  for (const auto& out : stack.outputs) {
    if (out.key != "Url") {
      continue;
    }
    auto host = out.value.substr(std::min(out.value.size(), out.value.find("://") + 3));
    if (host.empty() || host == "None") {
      std::fprintf(stderr,
                   "vendo: the stack has no URL: its host has no public address. Give it a name "
                   "with --domain, put it behind a load balancer (--certificate-arn), or use a "
                   "subnet that assigns public addresses\n");
      return false;
    }
    std::printf("\nTVM URL: %s\n", out.value.c_str());
  }
  return true;
}

// Polls until the stack leaves *_IN_PROGRESS, printing each new event as it happens.
// Returns the final state, or nullopt once the stack no longer exists (a finished delete).
Result<std::optional<deploy::StackInfo>> Wait(deploy::CloudFormation& cfn, const std::string& name,
                                              std::chrono::milliseconds poll,
                                              std::set<std::string>& seen) {
  for (;;) {
    auto stack = cfn.Describe(name);
    if (!stack) {
      return std::unexpected(stack.error());
    }
    if (*stack) {
      if (auto events = cfn.Events(name)) {
        for (auto& it : std::ranges::reverse_view(*events)) {  // oldest first
          if (seen.insert(it.id).second) {
            std::printf("  %-20s %-30s %-28s %s%s%s\n", it.timestamp.c_str(), it.status.c_str(),
                        it.resource_type.c_str(), it.logical_id.c_str(),
                        it.reason.empty() ? "" : "  ", it.reason.c_str());
          }
        }
        std::fflush(stdout);
      }
    }
    if (!*stack || !(*stack)->InProgress()) {
      return stack;
    }
    std::this_thread::sleep_for(poll);
  }
}

// The events that explain a failure: every *_FAILED with its reason.
void PrintFailure(deploy::CloudFormation& cfn, const deploy::StackInfo& stack) {
  std::fprintf(stderr, "vendo: stack %s is %s%s%s\n", stack.name.c_str(), stack.status.c_str(),
               stack.reason.empty() ? "" : ": ", stack.reason.c_str());
  if (auto events = cfn.Events(stack.name)) {
    for (const auto& e : *events) {
      if (e.status.ends_with("_FAILED")) {
        std::fprintf(stderr, "  %s %s: %s\n", e.logical_id.c_str(), e.status.c_str(),
                     e.reason.c_str());
      }
    }
  }
}

// Parameters for CreateStack/UpdateStack: what the flags set; on update, the rest keep their
// previous values.
// The policy template of --policy-file, checked as `vendo config check` would, minified.
Result<std::optional<std::string>> PolicyFromFile(const DeployOptions& o) {
  if (o.policy_file.empty()) {
    return std::optional<std::string>();
  }
  bool ok = false;
  std::string policy = ReadFile(o.policy_file, ok);
  if (!ok) {
    return Fail(ErrorCode::kInvalidArgument, "--policy-file: cannot read " + o.policy_file);
  }
  auto parsed = policy::Template::Parse(policy);
  if (!parsed) {
    return Fail(ErrorCode::kInvalidArgument, "--policy-file: " + parsed.error().message);
  }
  return std::optional<std::string>(parsed->text());
}

// On update (`existing` set), parameters no flag names keep the stack's values; those the
// stack does not list keep the template's defaults.
Result<std::vector<deploy::StackParameter>> Parameters(const DeployOptions& o,
                                                       const deploy::StackInfo* existing,
                                                       const std::optional<std::string>& policy,
                                                       Session& session) {
  bool update = existing != nullptr;
  std::vector<deploy::StackParameter> params;
  if (policy) {
    params.push_back({"PolicyDocument", *policy, false});
  }
  bool has_vpc = false;
  for (const auto& [key, value] : o.parameters) {
    params.push_back({key, value, false});
    has_vpc = has_vpc || key == "VpcId";
  }
  if (!has_vpc && !update) {
    // One step: the account's default VPC, unless told otherwise.
    auto network = deploy::DefaultNetwork(*session.client, *session.credentials, session.ec2);
    if (!network) {
      return std::unexpected(network.error());
    }
    std::string subnets;
    for (const auto& id : network->subnet_ids) {
      subnets += (subnets.empty() ? "" : ",") + id;
    }
    std::printf("network: default VPC %s, subnets %s\n", network->vpc_id.c_str(), subnets.c_str());
    params.push_back({"VpcId", network->vpc_id, false});
    bool has_subnets = false;
    for (const auto& p : params) {
      has_subnets = has_subnets || p.key == "SubnetIds";
    }
    if (!has_subnets) {
      params.push_back({"SubnetIds", subnets, false});
    }
  }
  if (update) {
    for (const auto& key : existing->parameter_keys) {
      bool given = false;
      for (const auto& p : params) {
        given = given || p.key == key;
      }
      if (!given) {
        params.push_back({key, "", true});
      }
    }
  }
  return params;
}

// The template's AllowedPattern for buckets, [a-z0-9][a-z0-9.-]{1,61}[a-z0-9], and no "..".
bool IsBucketName(std::string_view name) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return name.size() >= 3 && name.size() <= 63 && alnum(name.front()) && alnum(name.back()) &&
         std::ranges::all_of(name, [&](char c) { return alnum(c) || c == '.' || c == '-'; }) &&
         name.find("..") == std::string_view::npos;
}

// The parameters CloudFormation would refuse (moto does not check AllowedPattern), found
// before anything is created: a usage error naming the flag.
std::optional<std::string> BadParameter(const DeployOptions& o) {
  auto label_ok = [](std::string_view label) {
    return !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-' &&
           std::ranges::all_of(label, [](char c) {
             return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
           });
  };
  for (const auto& [key, value] : o.parameters) {
    if (key == "Domain" && !value.empty()) {
      std::string_view rest = value;
      int labels = 0;
      bool ok = value.size() <= 253;
      while (ok && !rest.empty()) {
        auto dot = rest.find('.');
        ok = label_ok(rest.substr(0, dot));
        ++labels;
        rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
      }
      if (!ok || labels < 2) {
        return "--domain: \"" + value + "\" is not a host name such as tvm.example.com";
      }
    }
    if ((key == "DataBucketName" || key == "ArtifactBucket") && !IsBucketName(value)) {
      return std::string(key == "DataBucketName" ? "--data-bucket" : "--artifact-bucket") + ": \"" +
             value + "\" is not an S3 bucket name (3-63 of a-z 0-9 . -)";
    }
  }
  return std::nullopt;
}

// The package the hosts will download, when this deploy names it (a new stack always does):
// checked before anything is created.
Status CheckArtifact(const DeployOptions& o, bool update, Session& s) {
  std::string bucket, key = "vendo_0.1.0_amd64.deb";  // the template's default key
  bool named = false;
  for (const auto& [k, v] : o.parameters) {
    if (k == "ArtifactBucket") {
      bucket = v;
      named = true;
    } else if (k == "ArtifactKey") {
      key = v;
      named = true;
    }
  }
  if (!named && update) {
    return {};  // the stack keeps the artifact it has
  }
  if (bucket.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "--artifact-bucket is required: the S3 bucket holding the vendo .deb "
                "(make package, then aws s3 cp)");
  }
  return deploy::CheckObjectReadable(*s.http, *s.credentials, s.clock, s.s3, bucket, key);
}

// A failure while talking to AWS: exit 1 (usage errors are found before, and exit 2).
int Report(const Error& e, const char* what) {
  std::fprintf(stderr, "vendo: %s: %s\n", what, e.message.c_str());
  return 1;
}

// Connect fails on a bad --endpoint-url (usage: 2) or an unusable HTTPS setup (1).
int ConnectFailed(const Error& e) {
  std::fprintf(stderr, "vendo: %s\n", e.message.c_str());
  return e.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int Deploy(const DeployOptions& o) {
  std::string path = TemplatePath(o);
  bool ok = false;
  std::string body = ReadFile(path, ok);
  if (!ok) {
    std::fprintf(stderr, "vendo: cannot read the template %s (--template)\n", path.c_str());
    return 2;
  }
  if (body.size() > kMaxTemplateBody) {
    std::fprintf(stderr, "vendo: %s is larger than CloudFormation's %zu-byte TemplateBody\n",
                 path.c_str(), kMaxTemplateBody);
    return 2;
  }
  if (auto bad = BadParameter(o)) {
    std::fprintf(stderr, "vendo: %s\n", bad->c_str());
    return 2;
  }
  auto policy = PolicyFromFile(o);
  if (!policy) {
    std::fprintf(stderr, "vendo: %s\n", policy.error().message.c_str());
    return 2;
  }
  auto session = Connect(o);
  if (!session) {
    return ConnectFailed(session.error());
  }
  deploy::CloudFormation& cfn = *(*session)->cfn;
  auto existing = cfn.Describe(o.stack_name);
  if (!existing) {
    return Report(existing.error(), "deploy");
  }
  if (*existing && (*existing)->status == "ROLLBACK_COMPLETE") {
    std::fprintf(stderr,
                 "vendo: stack %s failed to create earlier and cannot be updated; remove it "
                 "with `vendo undeploy --stack-name %s`, then deploy again\n",
                 o.stack_name.c_str(), o.stack_name.c_str());
    return 1;
  }
  bool update = existing->has_value();
  if (auto artifact = CheckArtifact(o, update, **session); !artifact) {
    std::fprintf(stderr, "vendo: %s; nothing was created\n", artifact.error().message.c_str());
    return artifact.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  auto params = Parameters(o, update ? &**existing : nullptr, *policy, **session);
  if (!params) {
    return Report(params.error(), "deploy");
  }
  std::set<std::string> seen;
  if (update) {
    if (auto before = cfn.Events(o.stack_name)) {
      for (const auto& e : *before) {
        seen.insert(e.id);  // only this update's events
      }
    }
  }
  std::printf("%s stack %s in %s from %s\n", update ? "updating" : "creating", o.stack_name.c_str(),
              o.region.c_str(), path.c_str());
  std::fflush(stdout);
  if (update) {
    auto changed = cfn.Update(o.stack_name, body, *params);
    if (!changed) {
      return Report(changed.error(), "update");
    }
    if (!*changed) {
      std::printf("no changes: the stack is already as asked\n");
      return PrintOutputs(**existing) ? 0 : 1;
    }
  } else if (auto id = cfn.Create(o.stack_name, body, *params); !id) {
    return Report(id.error(), "create");
  }
  auto done = Wait(cfn, o.stack_name, o.poll, seen);
  if (!done) {
    return Report(done.error(), "deploy");
  }
  if (!*done || (*done)->Failed() || !(*done)->status.ends_with("_COMPLETE")) {
    if (*done) {
      PrintFailure(cfn, **done);
    } else {
      std::fprintf(stderr, "vendo: stack %s disappeared while deploying\n", o.stack_name.c_str());
    }
    return 1;
  }
  std::printf("stack %s: %s\n", o.stack_name.c_str(), (*done)->status.c_str());
  return PrintOutputs(**done) ? 0 : 1;
}

int DeployStatus(const DeployOptions& o) {
  auto session = Connect(o);
  if (!session) {
    return ConnectFailed(session.error());
  }
  auto stack = (*session)->cfn->Describe(o.stack_name);
  if (!stack) {
    return Report(stack.error(), "status");
  }
  if (!*stack) {
    std::printf("stack %s: not deployed in %s\n", o.stack_name.c_str(), o.region.c_str());
    return 1;
  }
  std::printf("stack %s: %s%s%s\n", o.stack_name.c_str(), (*stack)->status.c_str(),
              (*stack)->reason.empty() ? "" : ": ", (*stack)->reason.c_str());
  bool has_url = PrintOutputs(**stack);
  return (*stack)->Failed() || !has_url ? 1 : 0;
}

int Undeploy(const DeployOptions& o) {
  auto session = Connect(o);
  if (!session) {
    return ConnectFailed(session.error());
  }
  deploy::CloudFormation& cfn = *(*session)->cfn;
  auto stack = cfn.Describe(o.stack_name);
  if (!stack) {
    return Report(stack.error(), "undeploy");
  }
  if (!*stack || (*stack)->status == "DELETE_COMPLETE") {
    std::printf("stack %s: nothing to remove in %s\n", o.stack_name.c_str(), o.region.c_str());
    return 0;
  }
  std::set<std::string> seen;
  if (auto before = cfn.Events(o.stack_name)) {
    for (const auto& e : *before) {
      seen.insert(e.id);
    }
  }
  std::printf("deleting stack %s in %s\n", o.stack_name.c_str(), o.region.c_str());
  if (auto deleted = cfn.Delete(o.stack_name); !deleted) {
    return Report(deleted.error(), "undeploy");
  }
  auto done = Wait(cfn, o.stack_name, o.poll, seen);
  if (!done) {
    return Report(done.error(), "undeploy");
  }
  if (*done && (*done)->status != "DELETE_COMPLETE") {
    PrintFailure(cfn, **done);
    return 1;
  }
  std::printf("stack %s: deleted, with everything it created\n", o.stack_name.c_str());
  return 0;
}

CommandRunner AddDeployCommands(CLI::App& app) {
  // vendo deploy [status] / vendo undeploy: the CloudFormation stack.
  auto deploy = std::make_shared<DeployOptions>();
  if (const char* r = std::getenv("AWS_REGION"); r != nullptr && *r != '\0') {
    deploy->region = r;
  } else if (const char* d = std::getenv("AWS_DEFAULT_REGION"); d != nullptr && *d != '\0') {
    deploy->region = d;
  }
  auto poll_seconds = std::make_shared<double>(5);
  auto* deploy_cmd = app.add_subcommand(
      "deploy", "Deploy vendo to AWS with CloudFormation (create or update), wait, print the URL");
  auto* status_cmd = deploy_cmd->add_subcommand("status", "Print the stack's state and outputs");
  auto* undeploy_cmd = app.add_subcommand(
      "undeploy", "Delete the stack and everything it created, and wait until it is gone");
  for (CLI::App* cmd : {deploy_cmd, status_cmd, undeploy_cmd}) {
    cmd->add_option("--region", deploy->region, "AWS region (default: AWS_REGION, else us-east-1)")
        ->capture_default_str();
    cmd->add_option("--stack-name", deploy->stack_name, "CloudFormation stack name")
        ->capture_default_str();
    cmd->add_option("--endpoint-url", deploy->endpoint_url,
                    "CloudFormation endpoint (tests: a local moto_server)");
    cmd->add_option("--profile", deploy->profile,
                    "AWS profile (default: environment, shared files, ECS or instance role)");
    cmd->add_option("--poll-seconds", *poll_seconds, "Seconds between progress checks")
        ->capture_default_str()
        ->check(CLI::Range(0.05, 60.0));
  }
  deploy_cmd->add_option("--template", deploy->template_file,
                         "Template (default: /usr/share/vendo/cloudformation/vendo.yaml)");
  deploy_cmd->add_option("--policy-file", deploy->policy_file,
                         "Policy template file to vend (checked, then sent as PolicyDocument)");
  struct ParamFlag {
    const char* flag;
    const char* key;
    const char* help;
  };
  static const ParamFlag kParamFlags[] = {
      {"--mode", "Mode", "anonymous or identity"},
      {"--app-name", "AppName", "Identity mode: the app name the clients are built with"},
      {"--issuer", "Issuer", "federation (IAM user, as in 2013) or assume-role"},
      {"--data-bucket", "DataBucketName", "The S3 bucket devices may use"},
      {"--policy-document", "PolicyDocument", "Policy template text (or --policy-file)"},
      {"--policy-s3-bucket", "PolicyS3Bucket", "Read the policy template from this bucket"},
      {"--policy-s3-key", "PolicyS3Key", "... and this key"},
      {"--credential-seconds", "CredentialSeconds", "Lifetime of vended credentials"},
      {"--instance-count", "InstanceCount", "1 = one host on SQLite; more = ALB + PostgreSQL"},
      {"--instance-type", "InstanceType", "EC2 instance type"},
      {"--image-id", "ImageId", "AMI (default: the latest Debian 12 via SSM)"},
      {"--vpc-id", "VpcId", "VPC (default: the account's default VPC)"},
      {"--subnet-ids", "SubnetIds", "Comma-separated subnets (default: the default VPC's)"},
      {"--artifact-bucket", "ArtifactBucket", "S3 bucket holding the vendo .deb"},
      {"--artifact-key", "ArtifactKey", "S3 key of the vendo .deb"},
      {"--domain", "Domain",
       "Your host name for the TVM (the URL and identity apps' endpoint; point DNS at it)"},
      {"--certificate-arn", "CertificateArn", "ACM certificate: HTTPS, HTTP redirected"},
      {"--key-name", "KeyName", "EC2 key pair for ssh"},
      {"--ssh-cidr", "SshCidr", "Address range allowed to ssh"},
  };
  auto param_values = std::make_shared<std::array<std::string, std::size(kParamFlags)>>();
  std::vector<CLI::Option*> param_options;
  for (std::size_t i = 0; i < std::size(kParamFlags); ++i) {
    param_options.push_back(
        deploy_cmd->add_option(kParamFlags[i].flag, (*param_values)[i],
                               std::string(kParamFlags[i].help) + " (" + kParamFlags[i].key + ")"));
  }
  deploy_cmd->footer(
      "Creates the stack, or updates it if it exists (unset parameters keep their values),\n"
      "prints each resource as it is created, and the TVM URL at the end. Credentials come\n"
      "from the standard chain. On failure it prints the events that explain it and exits 1.\n"
      "Example: vendo deploy --data-bucket my-app-data --artifact-bucket my-artifacts \\\n"
      "           --issuer assume-role --instance-count 2 --certificate-arn arn:aws:acm:...");

  return [=]() -> std::optional<int> {
    if (!*deploy_cmd && !*undeploy_cmd) {
      return std::nullopt;
    }
    deploy->poll = std::chrono::milliseconds(static_cast<long>(*poll_seconds * 1000));
    for (std::size_t i = 0; i < param_options.size(); ++i) {
      if (param_options[i]->count() > 0) {
        deploy->parameters.emplace_back(kParamFlags[i].key, (*param_values)[i]);
      }
    }
    if (*undeploy_cmd) {
      return Undeploy(*deploy);
    }
    if (*status_cmd) {
      return DeployStatus(*deploy);
    }
    return Deploy(*deploy);
  };
}

}  // namespace vendo::cli
