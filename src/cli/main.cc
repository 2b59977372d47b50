// vendo: a token vending machine. One binary: the server and its tools.
#include <sys/prctl.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <vector>

#include "cli/command.h"

namespace {

int Run(int argc, char** argv) {
  CLI::App app{
      "vendo: a self-hosted token vending machine. Devices get short-lived AWS "
      "credentials scoped to the device or user, over the 2012 TVM protocol."};
  app.require_subcommand(1);

  namespace cli = vendo::cli;
  std::vector<cli::CommandRunner> runners{
      cli::AddServeCommand(app),       cli::AddConfigCommands(app), cli::AddPolicyCommands(app),
      cli::AddStoreCommands(app),      cli::AddDeployCommands(app), cli::AddAdminCommands(app),
      cli::AddClientCommandRunner(app)};
  auto* version_cmd = app.add_subcommand("version", "Print the version");
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

  for (const auto& run : runners) {
    if (auto code = run()) {
      return *code;
    }
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
