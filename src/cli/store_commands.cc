// `vendo store migrate` and `vendo store copy`.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "cli/commands.h"
#include "cli/store_open.h"
#include "common/clock.h"
#include "common/random.h"
#include "crypto/secret_box.h"
#include "store/copy.h"

namespace vendo::cli {

int StoreMigrate(const std::string& config_file) {
  auto cfg = LoadConfigOrReport(config_file);
  if (!cfg) {
    return 2;
  }
  SystemClock clock;
  OsRandom random;
  auto key = crypto::LoadMasterKey(cfg->store.master_key_file);
  if (!key) {
    std::fprintf(stderr, "vendo: %s\n", key.error().message.c_str());
    return 1;
  }
  crypto::SecretBox box(std::move(*key), random);
  StoreSettings settings = StoreSettingsOf(cfg->store);
  settings.max_connections = 1;
  auto opened = OpenStore(settings, box, clock);
  if (!opened) {
    std::fprintf(stderr, "vendo: store %s: %s\n", cfg->store.location.Display().c_str(),
                 opened.error().message.c_str());
    return 1;
  }
  std::printf("%s: schema version %d (current)\n", cfg->store.location.Display().c_str(),
              opened->schema_version);
  return 0;
}

namespace {

Result<OpenedStore> OpenForCopy(const std::string& url, const std::string& password_file,
                                bool must_exist, const crypto::SecretBox& box, const Clock& clock) {
  auto location = store::ParseStoreUrl(url);
  if (!location) {
    return std::unexpected(location.error());
  }
  if (must_exist && location->kind == store::StoreLocation::Kind::kSqlite &&
      !std::filesystem::exists(location->sqlite_path)) {
    return Fail(ErrorCode::kInvalidArgument, "no such file: " + location->sqlite_path);
  }
  StoreSettings settings;
  settings.location = *location;
  settings.password_file = password_file;
  settings.max_connections = 2;
  settings.timeouts.statement = std::chrono::seconds(60);  // a copy's batches are large
  return OpenStore(settings, box, clock);
}

void PrintDigest(const char* what, const store::TableDigest& from, const store::TableDigest& to) {
  std::printf(
      "  %-8s source %10lld rows  sha256 %.16s...   target %10lld rows  sha256 %.16s...  %s\n",
      what, static_cast<long long>(from.rows), from.sha256.c_str(), static_cast<long long>(to.rows),
      to.sha256.c_str(), from == to ? "ok" : "DIFFERENT");
}

}  // namespace

int StoreCopy(const StoreCopyOptions& options) {
  SystemClock clock;
  OsRandom random;
  // A copy moves sealed rows verbatim and never opens a secret: any key will do here. The
  // target's hosts need the source's master key file to read what was copied.
  auto throwaway = random.Bytes(32);
  crypto::SecretBox box(SecretString(std::string(throwaway.begin(), throwaway.end())), random);
  auto from = OpenForCopy(options.from, options.from_password_file, true, box, clock);
  if (!from) {
    std::fprintf(stderr, "vendo: --from: %s\n", from.error().message.c_str());
    return from.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  auto to = OpenForCopy(options.to, options.to_password_file, false, box, clock);
  if (!to) {
    std::fprintf(stderr, "vendo: --to: %s\n", to.error().message.c_str());
    return to.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  // Progress on stderr: one line per step; on a terminal, updated in place as it goes.
  bool tty = ::isatty(STDERR_FILENO) != 0;
  auto started = std::chrono::steady_clock::now();
  auto progress = [&](std::string_view step, std::int64_t rows, bool done) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (done || tty) {
      std::fprintf(stderr, "%s%-26.*s %12lld rows  %7.1f s%s", tty ? "\r" : "",
                   static_cast<int>(step.size()), step.data(), static_cast<long long>(rows),
                   seconds, done ? "\n" : "");
      std::fflush(stderr);
    }
  };
  auto report = store::CopyRows(*from->rows, *to->rows, 1000, progress);
  if (!report) {
    std::fprintf(stderr,
                 "vendo: copy failed: %s\nNothing copied so far is lost: run the same "
                 "command again to continue.\n",
                 report.error().message.c_str());
    return 1;
  }
  std::printf("copied %lld devices and %lld users (rows already in the target were kept)\n",
              static_cast<long long>(report->devices_copied),
              static_cast<long long>(report->users_copied));
  PrintDigest("devices", report->source_devices, report->target_devices);
  PrintDigest("users", report->source_users, report->target_users);
  if (!report->verified()) {
    std::fprintf(stderr,
                 "vendo: verification failed: the target holds rows that differ from the "
                 "source (or extra rows). Nothing was overwritten.\n");
    return 1;
  }
  std::printf("verified: the target holds exactly the source's devices and users\n");
  return 0;
}

CommandRunner AddStoreCommands(CLI::App& app) {
  auto* store_cmd = app.add_subcommand("store", "Work with the store (SQLite or PostgreSQL)");
  store_cmd->require_subcommand(1);
  auto migrate_config = std::make_shared<std::string>();
  auto* migrate_cmd = store_cmd->add_subcommand(
      "migrate", "Bring the configured store's schema up to date (serve does this too)");
  migrate_cmd->add_option("-c,--config", *migrate_config, "TOML configuration file")
      ->required()
      ->check(CLI::ExistingFile);
  auto copy = std::make_shared<StoreCopyOptions>();
  auto* copy_cmd = store_cmd->add_subcommand(
      "copy", "Copy every device and user into another store, then verify (safe to re-run)");
  copy_cmd
      ->add_option("--from", copy->from, "Source store URL, e.g. sqlite:///var/lib/vendo/vendo.db")
      ->required();
  copy_cmd->add_option("--to", copy->to, "Target store URL, e.g. postgres://vendo@db:5432/vendo")
      ->required();
  copy_cmd->add_option("--from-password-file", copy->from_password_file,
                       "File holding the source PostgreSQL password");
  copy_cmd->add_option("--to-password-file", copy->to_password_file,
                       "File holding the target PostgreSQL password");
  copy_cmd->footer(
      "Passwords never go in URLs or on the command line: use the password-file options or\n"
      "PGPASSWORD. Secrets are copied sealed: the target's hosts need the same master key file.\n"
      "Rows already in the target are kept; the copy is verified by row counts and a SHA-256\n"
      "over every row, and exits 1 if the stores differ.\n"
      "Example: vendo store copy --from sqlite:///var/lib/vendo/vendo.db \\\n"
      "           --to postgres://vendo@db.internal:5432/vendo --to-password-file "
      "/etc/vendo/pg-password");

  return [migrate_cmd, copy_cmd, migrate_config, copy]() -> std::optional<int> {
    if (*migrate_cmd) {
      return StoreMigrate(*migrate_config);
    }
    if (*copy_cmd) {
      return StoreCopy(*copy);
    }
    return std::nullopt;
  };
}

}  // namespace vendo::cli
