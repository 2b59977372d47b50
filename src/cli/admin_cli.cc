// The options, help and dispatch of `vendo device|user|app ...` and `vendo stats`, in one step
// per command group; what each command does is in admin_commands.cc.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <vector>

#include "cli/command.h"
#include "cli/commands.h"

namespace vendo::cli {
namespace {

// The subcommands of `vendo device|user|app` and `vendo stats`, as parsing sets them.
struct AdminCommands {
  CLI::App *device_list, *device_show, *device_revoke;
  CLI::App *user_add, *user_list, *user_show, *user_disable, *user_enable, *user_delete;
  CLI::App *app_list, *stats;

  std::vector<CLI::App*> PerApp() const {
    return {device_list, device_show,  device_revoke, user_add,   user_list,
            user_show,   user_disable, user_enable,   user_delete};
  }
  // The user commands that name an existing user (by name, or provider and subject).
  std::vector<CLI::App*> NamingUser() const {
    return {user_show, user_disable, user_enable, user_delete};
  }
};

// What every command takes first: --app where one app is meant, the config file, --json.
CLI::App* Common(CLI::App* cmd, AdminOptions& o, bool per_app = true) {
  if (per_app) {
    cmd->add_option("--app", o.app, "App name ([apps.NAME])")->required();
  }
  cmd->add_option("-c,--config", o.config_file, "TOML configuration file")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", o.json, "JSON instead of a table");
  return cmd;
}

// --limit and --after, for the lists.
void Paged(CLI::App* cmd, AdminOptions& o) {
  cmd->add_option("--limit", o.limit, "Show at most this many")->capture_default_str();
  cmd->add_option("--after", o.after, "Start after this uid or username (the next page)");
}

void AddDeviceCommands(CLI::App& app, AdminOptions& o, AdminCommands& c) {
  auto* device_cmd =
      app.add_subcommand("device", "List, show or revoke devices (on the configured store)");
  device_cmd->require_subcommand(1);
  c.device_list = Common(device_cmd->add_subcommand("list", "List an app's devices"), o);
  c.device_show = Common(device_cmd->add_subcommand("show", "Show one device"), o);
  c.device_revoke = Common(
      device_cmd->add_subcommand(
          "revoke", "Revoke a device: no more tokens, and its uid cannot register or log in again"),
      o);
  Paged(c.device_list, o);
  for (CLI::App* cmd : {c.device_show, c.device_revoke}) {
    cmd->add_option("--uid", o.uid, "The device's uid")->required();
  }
  c.device_revoke->footer(
      "Recorded in the audit log. Running servers see the change within store.cache_ttl_ms.");
  device_cmd->footer(
      "Examples:\n"
      "  vendo device list --config /etc/vendo/vendo.toml --app sensors --limit 100\n"
      "  vendo device list --config /etc/vendo/vendo.toml --app sensors --after LAST_UID  (next "
      "page)\n"
      "  vendo device revoke --config /etc/vendo/vendo.toml --app sensors --uid UID");
}

void AddUserCommands(CLI::App& app, AdminOptions& o, AdminCommands& c) {
  auto* user_cmd = app.add_subcommand("user", "Add, list, show, disable, enable or delete users");
  user_cmd->require_subcommand(1);
  c.user_add =
      Common(user_cmd->add_subcommand(
                 "add", "Add a user (the password is read from --password-file or standard input)"),
             o);
  c.user_list = Common(user_cmd->add_subcommand("list", "List an app's users"), o);
  c.user_show = Common(user_cmd->add_subcommand("show", "Show one user and their devices"), o);
  c.user_disable =
      Common(user_cmd->add_subcommand(
                 "disable", "Disable a user: no logins, and their devices get no more tokens"),
             o);
  c.user_enable = Common(user_cmd->add_subcommand("enable", "Enable a disabled user again"), o);
  c.user_delete = Common(
      user_cmd->add_subcommand("delete", "Delete a user: their devices get no more tokens"), o);
  Paged(c.user_list, o);
  c.user_add->add_option("--user", o.username, "The username")->required();
  c.user_add->add_option("--password-file", o.password_file,
                         "File holding the password (default: one line on standard input)");
  c.user_add
      ->add_option("--protocol", o.protocol,
                   "v2 (argon2id; logs in with protocol v2) or 2012 (the 2012 salted hash)")
      ->capture_default_str()
      ->check(CLI::IsMember({"v2", "2012"}));
  c.user_add->footer(
      "Recorded in the audit log. Running servers see the change within store.cache_ttl_ms.");
  // A federated identity is named by its provider and subject (kept as "PROVIDER:SUBJECT").
  for (CLI::App* cmd : c.NamingUser()) {
    auto* user = cmd->add_option("--user", o.username, "The username");
    auto* provider =
        cmd->add_option("--provider", o.provider, "Federated apps: the identity provider's name");
    auto* subject = cmd->add_option("--subject", o.subject,
                                    "Federated apps: the identity's sub claim at that provider");
    user->excludes(provider)->excludes(subject);
    provider->needs(subject);
    subject->needs(provider);
    cmd->footer(
        "Name the user with --user, or a federated identity with --provider and "
        "--subject.\nRecorded in the audit log. Running servers see the change within "
        "store.cache_ttl_ms.");
  }
  user_cmd->footer(
      "Examples:\n"
      "  vendo user add --config /etc/vendo/vendo.toml --app photos --user alice "
      "--password-file pw.txt\n"
      "  vendo user list --config /etc/vendo/vendo.toml --app photos --json\n"
      "  vendo user disable --config /etc/vendo/vendo.toml --app photos --user alice\n"
      "  vendo user disable --config /etc/vendo/vendo.toml --app social --provider google "
      "--subject 1234");
}

void AddAppCommands(CLI::App& app, AdminOptions& o, AdminCommands& c) {
  auto* app_cmd = app.add_subcommand("app", "The configured apps");
  app_cmd->require_subcommand(1);
  c.app_list = Common(
      app_cmd->add_subcommand("list", "List the apps with their device and user counts"), o, false);
  c.stats =
      Common(app.add_subcommand(
                 "stats", "Counts per app, and registrations and vends in the last hour and day"),
             o, false);
  c.stats->add_option("--app", o.app, "Only this app");
  c.stats->footer(
      "Registrations and vends are every host's, as each host writes them to the store\n"
      "every 10 seconds.");
}

std::optional<int> RunAdminCommand(AdminOptions& o, const AdminCommands& c) {
  for (CLI::App* cmd : c.NamingUser()) {
    if (*cmd && !o.provider.empty()) {
      o.username = o.provider + ":" + o.subject;
    } else if (*cmd && o.username.empty()) {
      std::fprintf(stderr, "vendo user %s: give --user NAME, or --provider and --subject\n",
                   cmd->get_name().c_str());
      return 2;
    }
  }
  using Command = int (*)(const AdminOptions&);
  for (auto [cmd, run] : {std::pair<CLI::App*, Command>{c.device_list, DeviceList},
                          {c.device_show, DeviceShow},
                          {c.device_revoke, DeviceRevoke},
                          {c.user_add, UserAdd},
                          {c.user_list, UserList},
                          {c.user_show, UserShow},
                          {c.app_list, AppList},
                          {c.stats, Stats}}) {
    if (*cmd) {
      return run(o);
    }
  }
  for (auto [cmd, what] : {std::pair{c.user_disable, "disable"}, std::pair{c.user_enable, "enable"},
                           std::pair{c.user_delete, "delete"}}) {
    if (*cmd) {
      return UserChange(o, what);
    }
  }
  return std::nullopt;
}

}  // namespace

// vendo device|user|app ... and vendo stats: operators' views and changes, on the store.
CommandRunner AddAdminCommands(CLI::App& app) {
  auto o = std::make_shared<AdminOptions>();
  auto c = std::make_shared<AdminCommands>();
  AddDeviceCommands(app, *o, *c);
  AddUserCommands(app, *o, *c);
  AddAppCommands(app, *o, *c);
  return [o, c]() { return RunAdminCommand(*o, *c); };
}

}  // namespace vendo::cli
