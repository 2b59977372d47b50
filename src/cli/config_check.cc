#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/commands.h"
#include "config/config.h"
#include "crypto/secret_box.h"
#include "policy/template.h"

namespace vendo::cli {

std::optional<server::Config> LoadConfigOrReport(const std::string& path) {
  auto cfg = server::LoadConfigFile(path);
  if (!cfg) {
    std::fprintf(stderr, "vendo: %s is not valid:\n", path.c_str());
    for (const auto& p : cfg.error().problems) {
      std::fprintf(stderr, "  %s\n", p.c_str());
    }
    return std::nullopt;
  }
  return std::move(*cfg);
}

int ConfigCheck(const std::string& path) {
  auto cfg = server::LoadConfigFile(path);
  std::vector<std::string> problems;
  if (!cfg) {
    problems = cfg.error().problems;
  } else if (auto key = crypto::LoadMasterKey(cfg->store.master_key_file); !key) {
    problems.push_back("store.master_key_file: " + key.error().message);
  }
  if (!problems.empty()) {
    std::fprintf(stderr, "%s: %zu problem%s\n", path.c_str(), problems.size(),
                 problems.size() == 1 ? "" : "s");
    for (const auto& p : problems) {
      std::fprintf(stderr, "  %s\n", p.c_str());
    }
    return 2;
  }
  std::printf("%s: ok (%zu app%s", path.c_str(), cfg->apps.size(),
              cfg->apps.size() == 1 ? "" : "s");
  for (const auto& app : cfg->apps) {
    std::printf("%s %s", &app == &cfg->apps.front() ? ":" : ",", app.name.c_str());
  }
  std::printf(")\n");
  for (const auto& app : cfg->apps) {
    auto policy = policy::Template::Parse(app.policy);  // parsed once already: cannot fail
    std::printf("  app %s: issuer %s", app.name.c_str(), app.issuer.c_str());
    if (app.issuer != "dev") {
      std::printf(" (%s, %s)",
                  app.aws.endpoint.empty() ? app.aws.region.c_str() : app.aws.endpoint.c_str(),
                  !app.aws.access_key_id.empty() ? "access key from config"
                  : !app.aws.profile.empty()     ? ("profile " + app.aws.profile).c_str()
                                                 : "default credential chain");
    }
    std::printf(", session name %.*s, policy at most %zu of %zu bytes\n",
                static_cast<int>(app.SessionNameTemplate().size()),
                app.SessionNameTemplate().data(), policy ? policy->WorstCaseBytes() : 0,
                policy::kMaxPolicyBytes);
    if (policy) {
      for (const auto& w : policy->Warnings()) {
        std::printf("  warning: app %s: policy: %s\n", app.name.c_str(), w.c_str());
      }
    }
  }
  return 0;
}

CommandRunner AddConfigCommands(CLI::App& app) {
  auto* config_cmd = app.add_subcommand("config", "Work with configuration files");
  config_cmd->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  auto* check_cmd = config_cmd->add_subcommand(
      "check", "Validate a configuration file and print every problem with its key");
  check_cmd->add_option("FILE", *path, "Configuration file")->required();

  return [check_cmd, path]() -> std::optional<int> {
    return *check_cmd ? std::optional<int>(ConfigCheck(*path)) : std::nullopt;
  };
}

}  // namespace vendo::cli
