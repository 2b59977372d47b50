// The device-side commands: `vendo client ...` and `vendo credential-process`.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

namespace vendo::cli {

// The commands and their options, filled in by parsing.
struct ClientCli {
  CLI::App* register_cmd = nullptr;
  CLI::App* login_cmd = nullptr;
  CLI::App* token_cmd = nullptr;
  CLI::App* forget_cmd = nullptr;
  CLI::App* process_cmd = nullptr;

  std::string state;
  std::string endpoint;
  std::string app;
  std::string protocol = "v2";
  std::string ca_file;
  std::string username;
  std::string password_file;
  std::string id_token_file;  // federated apps: "-" is standard input
  bool bind_device = false;   // federated login: bind a device to the identity
  std::string legacy_app_name;
  std::string salt_endpoint;
  std::string format = "json";
  bool refresh = false;
  bool seal = false;
  int margin_seconds = 300;
};

// Adds `client register|login|token|forget` and `credential-process` to `app`.
std::unique_ptr<ClientCli> AddClientCommands(CLI::App& app);
// After parsing: runs the chosen client command and returns its exit code, or nullopt when
// none of them was chosen.
std::optional<int> RunClientCommand(const ClientCli& cli);

}  // namespace vendo::cli
