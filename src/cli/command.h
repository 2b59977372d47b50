// How the `vendo` subcommands are put together. Each file that implements commands also
// registers them (their options, help and examples) on the app, with an Add...Commands
// function that returns what runs after parsing: the exit code of its command when one of its
// commands was chosen, nullopt otherwise. main.cc only lists them, in the order --help shows.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>

namespace vendo::cli {

using CommandRunner = std::function<std::optional<int>()>;

CommandRunner AddServeCommand(CLI::App& app);    // serve.cc
CommandRunner AddConfigCommands(CLI::App& app);  // config_check.cc
CommandRunner AddPolicyCommands(CLI::App& app);  // policy_render.cc
CommandRunner AddStoreCommands(CLI::App& app);   // store_commands.cc
CommandRunner AddDeployCommands(CLI::App& app);  // deploy.cc: deploy [status], undeploy
CommandRunner AddAdminCommands(CLI::App& app);   // admin_cli.cc: device, user, app, stats
CommandRunner AddClientCommandRunner(
    CLI::App& app);  // client_commands.cc: client, credential-process

}  // namespace vendo::cli
