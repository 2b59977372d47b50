// vendo: a token vending machine. One binary: the server and its tools.
#include <sys/prctl.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>

#include "cli/client_commands.h"
#include "cli/commands.h"

namespace {

int Run(int argc, char** argv) {
  CLI::App app{
      "vendo: a self-hosted token vending machine. Devices get short-lived AWS "
      "credentials scoped to the device or user, over the 2012 TVM protocol."};
  app.require_subcommand(1);

  vendo::cli::ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "Run the token vending machine server");
  auto* config_opt = serve_cmd
                         ->add_option("-c,--config", serve.config_file,
                                      "TOML configuration file (see docs/configuration.md)")
                         ->check(CLI::ExistingFile);
  auto* dev_flag = serve_cmd->add_flag(
      "--dev", serve.dev,
      "Development mode, no config file: anonymous app 'anonymous-demo' (also at /) and "
      "identity app 'identity-demo', dev issuer, data in --data-dir");
  auto* listen_opt =
      serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on (--dev)")
          ->capture_default_str();
  auto* data_opt = serve_cmd
                       ->add_option("--data-dir", serve.data_dir,
                                    "Directory for the database and master key (--dev)")
                       ->capture_default_str();
  config_opt->excludes(dev_flag);
  listen_opt->needs(dev_flag);
  data_opt->needs(dev_flag);
  serve_cmd->footer(
      "SIGTERM or SIGINT drains in-flight requests, then exits 0.\n"
      "Logs are JSON lines on stderr; the startup banner goes to stdout.");

  auto* config_cmd = app.add_subcommand("config", "Work with configuration files");
  config_cmd->require_subcommand(1);
  std::string check_path;
  auto* check_cmd = config_cmd->add_subcommand(
      "check", "Validate a configuration file and print every problem with its key");
  check_cmd->add_option("FILE", check_path, "Configuration file")->required();

  vendo::cli::PolicyRenderOptions render;
  auto* policy_cmd = app.add_subcommand("policy", "Work with session policy templates");
  policy_cmd->require_subcommand(1);
  auto* render_cmd = policy_cmd->add_subcommand(
      "render", "Print the policy an app would send to STS for one caller");
  render_cmd->add_option("-c,--config", render.config_file, "TOML configuration file")
      ->required()
      ->check(CLI::ExistingFile);
  render_cmd->add_option("--app", render.app, "App name ([apps.NAME])")->required();
  render_cmd->add_option("--uid", render.uid, "Device id (${uid}; required for anonymous apps)");
  render_cmd->add_option("--user", render.username,
                         "Username (${username}; required for identity apps)");
  render_cmd->add_option("--userid", render.user_id, "User id (${userid})");
  render_cmd->add_option("--region", render.region,
                         "Region (${region}; default: the app's aws.region)");
  render_cmd->add_option("--account-id", render.account_id,
                         "Account id (${account_id}; default: the app's aws.account_id)");
  render_cmd->footer(
      "The policy goes to stdout, its size to stderr.\n"
      "Example: vendo policy render --config vendo.toml --app photos --user alice");

  auto* store_cmd = app.add_subcommand("store", "Work with the store (SQLite or PostgreSQL)");
  store_cmd->require_subcommand(1);
  std::string migrate_config;
  auto* migrate_cmd = store_cmd->add_subcommand(
      "migrate", "Bring the configured store's schema up to date (serve does this too)");
  migrate_cmd->add_option("-c,--config", migrate_config, "TOML configuration file")
      ->required()
      ->check(CLI::ExistingFile);
  vendo::cli::StoreCopyOptions copy;
  auto* copy_cmd = store_cmd->add_subcommand(
      "copy", "Copy every device and user into another store, then verify (safe to re-run)");
  copy_cmd
      ->add_option("--from", copy.from, "Source store URL, e.g. sqlite:///var/lib/vendo/vendo.db")
      ->required();
  copy_cmd->add_option("--to", copy.to, "Target store URL, e.g. postgres://vendo@db:5432/vendo")
      ->required();
  copy_cmd->add_option("--from-password-file", copy.from_password_file,
                       "File holding the source PostgreSQL password");
  copy_cmd->add_option("--to-password-file", copy.to_password_file,
                       "File holding the target PostgreSQL password");
  copy_cmd->footer(
      "Passwords never go in URLs or on the command line: use the password-file options or\n"
      "PGPASSWORD. Secrets are copied sealed: the target's hosts need the same master key file.\n"
      "Rows already in the target are kept; the copy is verified by row counts and a SHA-256\n"
      "over every row, and exits 1 if the stores differ.\n"
      "Example: vendo store copy --from sqlite:///var/lib/vendo/vendo.db \\\n"
      "           --to postgres://vendo@db.internal:5432/vendo --to-password-file "
      "/etc/vendo/pg-password");

  // vendo deploy [status] / vendo undeploy: the CloudFormation stack.
  vendo::cli::DeployOptions deploy;
  if (const char* r = std::getenv("AWS_REGION"); r != nullptr && *r != '\0') {
    deploy.region = r;
  } else if (const char* d = std::getenv("AWS_DEFAULT_REGION"); d != nullptr && *d != '\0') {
    deploy.region = d;
  }
  double poll_seconds = 5;
  auto* deploy_cmd = app.add_subcommand(
      "deploy", "Deploy vendo to AWS with CloudFormation (create or update), wait, print the URL");
  auto* status_cmd = deploy_cmd->add_subcommand("status", "Print the stack's state and outputs");
  auto* undeploy_cmd = app.add_subcommand(
      "undeploy", "Delete the stack and everything it created, and wait until it is gone");
  for (CLI::App* cmd : {deploy_cmd, status_cmd, undeploy_cmd}) {
    cmd->add_option("--region", deploy.region, "AWS region (default: AWS_REGION, else us-east-1)")
        ->capture_default_str();
    cmd->add_option("--stack-name", deploy.stack_name, "CloudFormation stack name")
        ->capture_default_str();
    cmd->add_option("--endpoint-url", deploy.endpoint_url,
                    "CloudFormation endpoint (tests: a local moto_server)");
    cmd->add_option("--profile", deploy.profile,
                    "AWS profile (default: environment, shared files, ECS or instance role)");
    cmd->add_option("--poll-seconds", poll_seconds, "Seconds between progress checks")
        ->capture_default_str()
        ->check(CLI::Range(0.05, 60.0));
  }
  deploy_cmd->add_option("--template", deploy.template_file,
                         "Template (default: /usr/share/vendo/cloudformation/vendo.yaml)");
  deploy_cmd->add_option("--policy-file", deploy.policy_file,
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
  static std::string param_values[std::size(kParamFlags)];
  std::vector<CLI::Option*> param_options;
  for (std::size_t i = 0; i < std::size(kParamFlags); ++i) {
    param_options.push_back(
        deploy_cmd->add_option(kParamFlags[i].flag, param_values[i],
                               std::string(kParamFlags[i].help) + " (" + kParamFlags[i].key + ")"));
  }
  deploy_cmd->footer(
      "Creates the stack, or updates it if it exists (unset parameters keep their values),\n"
      "prints each resource as it is created, and the TVM URL at the end. Credentials come\n"
      "from the standard chain. On failure it prints the events that explain it and exits 1.\n"
      "Example: vendo deploy --data-bucket my-app-data --artifact-bucket my-artifacts \\\n"
      "           --issuer assume-role --instance-count 2 --certificate-arn arn:aws:acm:...");

  // vendo device|user|app ... and vendo stats: operators' views and changes, on the store.
  vendo::cli::AdminOptions admin;
  auto* device_cmd =
      app.add_subcommand("device", "List, show or revoke devices (on the configured store)");
  device_cmd->require_subcommand(1);
  auto* user_cmd = app.add_subcommand("user", "Add, list, show, disable, enable or delete users");
  user_cmd->require_subcommand(1);
  auto* app_cmd = app.add_subcommand("app", "The configured apps");
  app_cmd->require_subcommand(1);
  auto* device_list = device_cmd->add_subcommand("list", "List an app's devices");
  auto* device_show = device_cmd->add_subcommand("show", "Show one device");
  auto* device_revoke = device_cmd->add_subcommand(
      "revoke", "Revoke a device: no more tokens, and its uid cannot register or log in again");
  auto* user_add = user_cmd->add_subcommand(
      "add", "Add a user (the password is read from --password-file or standard input)");
  auto* user_list = user_cmd->add_subcommand("list", "List an app's users");
  auto* user_show = user_cmd->add_subcommand("show", "Show one user and their devices");
  auto* user_disable = user_cmd->add_subcommand(
      "disable", "Disable a user: no logins, and their devices get no more tokens");
  auto* user_enable = user_cmd->add_subcommand("enable", "Enable a disabled user again");
  auto* user_delete =
      user_cmd->add_subcommand("delete", "Delete a user: their devices get no more tokens");
  auto* app_list =
      app_cmd->add_subcommand("list", "List the apps with their device and user counts");
  auto* stats_cmd = app.add_subcommand(
      "stats", "Counts per app, and registrations and vends in the last hour and day");
  std::vector<CLI::App*> per_app = {device_list, device_show,  device_revoke, user_add,   user_list,
                                    user_show,   user_disable, user_enable,   user_delete};
  for (CLI::App* cmd : per_app) {
    cmd->add_option("--app", admin.app, "App name ([apps.NAME])")->required();
  }
  for (CLI::App* cmd : {device_list, device_show, device_revoke, user_add, user_list, user_show,
                        user_disable, user_enable, user_delete, app_list, stats_cmd}) {
    cmd->add_option("-c,--config", admin.config_file, "TOML configuration file")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_flag("--json", admin.json, "JSON instead of a table");
  }
  for (CLI::App* cmd : {device_revoke, user_add, user_disable, user_enable, user_delete}) {
    cmd->footer(
        "Recorded in the audit log. Running servers see the change within "
        "store.cache_ttl_ms.");
  }
  stats_cmd->add_option("--app", admin.app, "Only this app");
  stats_cmd->footer(
      "Registrations and vends are every host's, as each host writes them to the store\n"
      "every 10 seconds.");
  for (CLI::App* cmd : {device_list, user_list}) {
    cmd->add_option("--limit", admin.limit, "Show at most this many")->capture_default_str();
    cmd->add_option("--after", admin.after, "Start after this uid or username (the next page)");
  }
  for (CLI::App* cmd : {device_show, device_revoke}) {
    cmd->add_option("--uid", admin.uid, "The device's uid")->required();
  }
  for (CLI::App* cmd : {user_add, user_show, user_disable, user_enable, user_delete}) {
    cmd->add_option("--user", admin.username, "The username")->required();
  }
  user_add->add_option("--password-file", admin.password_file,
                       "File holding the password (default: one line on standard input)");
  user_add
      ->add_option("--protocol", admin.protocol,
                   "v2 (argon2id; logs in with protocol v2) or 2012 (the 2012 salted hash)")
      ->capture_default_str()
      ->check(CLI::IsMember({"v2", "2012"}));

  auto client_cli = vendo::cli::AddClientCommands(app);
  auto* version_cmd = app.add_subcommand("version", "Print the version");
  device_cmd->footer(
      "Examples:\n"
      "  vendo device list --config /etc/vendo/vendo.toml --app sensors --limit 100\n"
      "  vendo device list --config /etc/vendo/vendo.toml --app sensors --after LAST_UID  (next "
      "page)\n"
      "  vendo device revoke --config /etc/vendo/vendo.toml --app sensors --uid UID");
  user_cmd->footer(
      "Examples:\n"
      "  vendo user add --config /etc/vendo/vendo.toml --app photos --user alice "
      "--password-file pw.txt\n"
      "  vendo user list --config /etc/vendo/vendo.toml --app photos --json\n"
      "  vendo user disable --config /etc/vendo/vendo.toml --app photos --user alice");
  // Set last, so that subcommands do not inherit it in place of their own help.
  app.footer(
      "Examples:\n"
      "  vendo serve --dev                      development server on 127.0.0.1:8080\n"
      "  vendo serve --config /etc/vendo/vendo.toml\n"
      "  vendo config check /etc/vendo/vendo.toml\n"
      "  vendo policy render --config /etc/vendo/vendo.toml --app photos --user alice\n"
      "  vendo store copy --from sqlite:///var/lib/vendo/vendo.db --to "
      "postgres://vendo@db/vendo\n"
      "  vendo client register --endpoint https://tvm.example.com --app sensors\n"
      "  vendo credential-process                (for credential_process in ~/.aws/config)\n\n"
      "Exit codes: 0 success, 1 runtime failure, 2 bad usage or invalid configuration.\n"
      "Documentation: docs/configuration.md, docs/operating.md, docs/compatibility.md");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; every other parse error is a usage error: exit 2.
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  if (*serve_cmd) {
    if (!serve.dev && serve.config_file.empty()) {
      std::fprintf(stderr,
                   "vendo serve: give --config FILE, or --dev for a development server\n"
                   "Run 'vendo serve --help' for details.\n");
      return 2;
    }
    return vendo::cli::Serve(serve);
  }
  if (*check_cmd) {
    return vendo::cli::ConfigCheck(check_path);
  }
  if (*render_cmd) {
    return vendo::cli::PolicyRender(render);
  }
  if (*migrate_cmd) {
    return vendo::cli::StoreMigrate(migrate_config);
  }
  if (*copy_cmd) {
    return vendo::cli::StoreCopy(copy);
  }
  if (*deploy_cmd || *undeploy_cmd) {
    deploy.poll = std::chrono::milliseconds(static_cast<long>(poll_seconds * 1000));
    for (std::size_t i = 0; i < param_options.size(); ++i) {
      if (param_options[i]->count() > 0) {
        deploy.parameters.emplace_back(kParamFlags[i].key, param_values[i]);
      }
    }
    if (*undeploy_cmd) {
      return vendo::cli::Undeploy(deploy);
    }
    if (*status_cmd) {
      return vendo::cli::DeployStatus(deploy);
    }
    return vendo::cli::Deploy(deploy);
  }
  using AdminCommand = int (*)(const vendo::cli::AdminOptions&);
  for (auto [cmd, run] : {std::pair<CLI::App*, AdminCommand>{device_list, vendo::cli::DeviceList},
                          {device_show, vendo::cli::DeviceShow},
                          {device_revoke, vendo::cli::DeviceRevoke},
                          {user_add, vendo::cli::UserAdd},
                          {user_list, vendo::cli::UserList},
                          {user_show, vendo::cli::UserShow},
                          {app_list, vendo::cli::AppList},
                          {stats_cmd, vendo::cli::Stats}}) {
    if (*cmd) {
      return run(admin);
    }
  }
  for (auto [cmd, what] : {std::pair{user_disable, "disable"}, std::pair{user_enable, "enable"},
                           std::pair{user_delete, "delete"}}) {
    if (*cmd) {
      return vendo::cli::UserChange(admin, what);
    }
  }
  if (auto code = vendo::cli::RunClientCommand(*client_cli)) {
    return *code;
  }
  if (*version_cmd) {
    std::printf("vendo %s\n", VENDO_VERSION);
    return 0;
  }
  return 2;
}

}  // namespace

// Commands report their errors as values; an exception that still gets here (out of memory, a
// library's surprise) ends the command with a message and exit code 1, not an abort.
int main(int argc, char** argv) {
  // No core dumps and no ptrace by other processes of the same user: vendo's memory holds the
  // master key, device keys and AWS secrets (the unit also sets LimitCORE=0).
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vendo: unexpected error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "vendo: unexpected error\n");
  }
  return 1;
}
