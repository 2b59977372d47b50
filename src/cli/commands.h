// The `vendo` subcommands. Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad usage or invalid configuration.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace vendo::cli {

struct ServeOptions {
  std::string config_file;
  bool dev = false;
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./var/dev";
};

struct PolicyRenderOptions {
  std::string config_file;
  std::string app;
  std::string uid;
  std::string username;
  std::string user_id;
  std::string region;      // empty: the app's aws.region
  std::string account_id;  // empty: the app's aws.account_id
};

struct StoreCopyOptions {
  std::string from;  // store URLs: sqlite:///FILE or postgres://USER@HOST:PORT/DB
  std::string to;
  std::string from_password_file;
  std::string to_password_file;
};

struct DeployOptions {
  std::string region = "us-east-1";
  std::string stack_name = "vendo";
  std::string endpoint_url;  // tests: a local CloudFormation (moto_server)
  std::string profile;       // AWS shared-files profile; empty = the default chain
  std::string template_file;
  std::string policy_file;  // sent as PolicyDocument, checked first
  std::vector<std::pair<std::string, std::string>> parameters;  // template parameters set
  std::chrono::milliseconds poll{5000};
};

struct AdminOptions {
  std::string config_file;
  std::string app;       // "" for every app (app list, stats)
  std::string uid;       // device commands
  std::string username;  // user commands
  std::string provider;  // user commands, federated apps: with `subject`, names the user
  std::string subject;
  std::size_t limit = 1000;
  std::string after;  // lists: start after this uid or username
  bool json = false;
  std::string password_file;    // user add ("" = standard input)
  std::string protocol = "v2";  // user add: v2 (argon2id) or 2012 (the 2012 salted hash)
};

int Serve(const ServeOptions& options);
// `vendo device list|revoke`, `vendo user list|disable|enable|delete`: on the configured store,
// audited.
int DeviceList(const AdminOptions& options);
int DeviceShow(const AdminOptions& options);
int DeviceRevoke(const AdminOptions& options);
int UserAdd(const AdminOptions& options);
int UserList(const AdminOptions& options);
int UserShow(const AdminOptions& options);
int UserChange(const AdminOptions& options, std::string_view what);  // disable, enable, delete
int AppList(const AdminOptions& options);
// Counts per app, and registrations and vends in the last hour and day (every host's).
int Stats(const AdminOptions& options);
// Creates or updates the stack, waits with progress, prints the URL.
int Deploy(const DeployOptions& options);
int DeployStatus(const DeployOptions& options);
int Undeploy(const DeployOptions& options);

// Connects to the configured store and brings its schema up to date.
int StoreMigrate(const std::string& config_file);
// Copies every device and user between stores, verified; safe to re-run.
int StoreCopy(const StoreCopyOptions& options);
// Prints the policy an app's template renders for one caller (what STS would receive).
int PolicyRender(const PolicyRenderOptions& options);
int ConfigCheck(const std::string& path);

// Loads a config file, or prints every problem to stderr and returns nullopt.
std::optional<server::Config> LoadConfigOrReport(const std::string& path);

// --dev: creates the data directory (mode 0700) and a master key file (mode 0600) if missing.
// Returns an error message, or "" on success.
std::string PrepareDevDataDir(const std::string& data_dir);

}  // namespace vendo::cli
