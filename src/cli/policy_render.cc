#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/commands.h"
#include "config/config.h"
#include "policy/template.h"

namespace vendo::cli {

int PolicyRender(const PolicyRenderOptions& options) {
  auto cfg = LoadConfigOrReport(options.config_file);
  if (!cfg) {
    return 2;
  }
  const server::AppConfig* app = cfg->FindApp(options.app);
  if (app == nullptr) {
    std::fprintf(stderr, "vendo: no app named \"%s\" in %s\n", options.app.c_str(),
                 options.config_file.c_str());
    return 2;
  }
  bool identity = app->mode == protocol::legacy::Mode::kIdentity;
  if (identity && options.username.empty()) {
    std::fprintf(stderr, "vendo: app %s is an identity app: give --user\n", app->name.c_str());
    return 2;
  }
  if (!identity && options.uid.empty()) {
    std::fprintf(stderr, "vendo: app %s is an anonymous app: give --uid\n", app->name.c_str());
    return 2;
  }
  auto tmpl = policy::Template::Parse(app->policy);
  if (!tmpl) {
    std::fprintf(stderr, "vendo: apps.%s policy: %s\n", app->name.c_str(),
                 tmpl.error().message.c_str());
    return 2;
  }
  auto rendered =
      tmpl->Render({app->name,
                    options.uid,
                    options.username,
                    options.user_id,
                    options.region.empty() ? app->aws.region : options.region,
                    options.account_id.empty() ? app->aws.account_id : options.account_id,
                    "",
                    {}});
  if (!rendered) {
    std::fprintf(stderr, "vendo: %s\n", rendered.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", rendered->c_str());
  std::fprintf(stderr, "%zu of %zu bytes (at most %zu with the longest allowed values)\n",
               rendered->size(), policy::kMaxPolicyBytes, tmpl->WorstCaseBytes());
  return 0;
}

CommandRunner AddPolicyCommands(CLI::App& app) {
  auto o = std::make_shared<PolicyRenderOptions>();
  auto* policy_cmd = app.add_subcommand("policy", "Work with session policy templates");
  policy_cmd->require_subcommand(1);
  auto* render_cmd = policy_cmd->add_subcommand(
      "render", "Print the policy an app would send to STS for one caller");
  render_cmd->add_option("-c,--config", o->config_file, "TOML configuration file")
      ->required()
      ->check(CLI::ExistingFile);
  render_cmd->add_option("--app", o->app, "App name ([apps.NAME])")->required();
  render_cmd->add_option("--uid", o->uid, "Device id (${uid}; required for anonymous apps)");
  render_cmd->add_option("--user", o->username,
                         "Username (${username}; required for identity apps)");
  render_cmd->add_option("--userid", o->user_id, "User id (${userid})");
  render_cmd->add_option("--region", o->region,
                         "Region (${region}; default: the app's aws.region)");
  render_cmd->add_option("--account-id", o->account_id,
                         "Account id (${account_id}; default: the app's aws.account_id)");
  render_cmd->footer(
      "The policy goes to stdout, its size to stderr.\n"
      "Example: vendo policy render --config vendo.toml --app photos --user alice");

  return [render_cmd, o]() -> std::optional<int> {
    return *render_cmd ? std::optional<int>(PolicyRender(*o)) : std::nullopt;
  };
}

}  // namespace vendo::cli
