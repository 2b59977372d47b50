// vendo: a token vending machine. One binary: the server and its tools.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "vendo: a self-hosted token vending machine. Devices get short-lived AWS "
      "credentials scoped to the device or user, over the 2012 TVM protocol."};
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  vendo serve --dev                      development server on 127.0.0.1:8080\n"
      "  vendo serve --config /etc/vendo/vendo.toml\n"
      "  vendo config check /etc/vendo/vendo.toml\n"
      "  vendo policy render --config /etc/vendo/vendo.toml --app photos --user alice\n\n"
      "Exit codes: 0 success, 1 runtime failure, 2 bad usage or invalid configuration.\n"
      "Documentation: docs/configuration.md, docs/compatibility.md");

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

  auto* version_cmd = app.add_subcommand("version", "Print the version");

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
  if (*version_cmd) {
    std::printf("vendo %s\n", VENDO_VERSION);
    return 0;
  }
  return 2;
}
