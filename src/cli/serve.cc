// `vendo serve`: the composition root. The only place that builds concrete classes.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <expected>
#include <thread>

#include "admin/activity_tally.h"
#include "admin/admin.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/issuers.h"
#include "cli/providers.h"
#include "cli/store_open.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "common/log.h"
#include "common/random.h"
#include "common/secret_file.h"
#include "config/config.h"
#include "crypto/password.h"
#include "crypto/secret_box.h"
#include "http/http_server.h"
#include "metrics/prom_recorder.h"
#include "net/url.h"
#include "store/caching_store.h"
#include "store/timed_store.h"
#include "vending/audit.h"
#include "vending/legacy_service.h"
#include "vending/limits.h"
#include "vending/v2_service.h"
#include "web/router.h"

namespace vendo::cli {
namespace {

using server::App;
using server::Config;

constexpr std::size_t kBlockingThreads = 32;  // concurrent store writers feed group commit

LogLevel ParseLevel(const std::string& s) {
  if (s == "debug") {
    return LogLevel::kDebug;
  }
  if (s == "warn") {
    return LogLevel::kWarn;
  }
  if (s == "error") {
    return LogLevel::kError;
  }
  return LogLevel::kInfo;
}

void PrintBanner(const Config& cfg, const std::vector<std::unique_ptr<App>>& apps,
                 const std::string& base_url) {
  std::printf("vendo %s serving %s\n", VENDO_VERSION, base_url.c_str());
  for (const auto& app : apps) {
    bool identity = app->config.mode == protocol::legacy::Mode::kIdentity;
    std::printf("  app %-16s %-9s issuer=%s  %s/apps/%s%s\n", app->config.name.c_str(),
                identity ? "identity" : "anonymous", app->config.issuer.c_str(), base_url.c_str(),
                app->config.name.c_str(),
                app->config.name == cfg.default_app ? "  (default: also at /)" : "");
    if (identity) {
      std::printf("      app name %s, salt endpoint %s\n", app->config.app_name.c_str(),
                  app->salt_endpoint.c_str());
    }
  }
  if (cfg.dev) {
    std::printf(
        "  DEVELOPMENT MODE: credentials come from the dev issuer (access keys VDEV...) and open\n"
        "  nothing in AWS. Data: %s. Do not use --dev in production.\n",
        cfg.store.location.Display().c_str());
  }
  std::fflush(stdout);
}

// Each connection is a file descriptor; the usual soft limit (1024) is far below the default
// max_connections. Raise the soft limit to the hard one and say so if it is still too low.
void RaiseFileLimit(int max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &limit);
    (void)getrlimit(RLIMIT_NOFILE, &limit);
  }
  constexpr rlim_t kSpare = 64;  // database, log, listener and the rest
  if (limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur < static_cast<rlim_t>(max_connections) + kSpare) {
    LogLine(LogLevel::kWarn, "file descriptor limit below server.max_connections")
        .Int("nofile", static_cast<std::int64_t>(limit.rlim_cur))
        .Int("max_connections", max_connections)
        .Emit();
  }
}

// The admin listener (/metrics, /healthz, /readyz, the status page) on its own thread.
struct AdminListener {
  std::unique_ptr<server::AdminHandler> handler;
  std::unique_ptr<server::HttpServer> server;
  std::thread thread;
  std::string url;
  bool token = false;
  bool client_cert = false;

  ~AdminListener() { Stop(); }
  void Stop() {
    if (server) {
      server->Stop();
      thread.join();
      server.reset();
    }
  }
};

Result<std::unique_ptr<AdminListener>> StartAdmin(const Config& cfg,
                                                  const std::vector<std::unique_ptr<App>>& apps,
                                                  store::Store& store, TaskRunner& blocking,
                                                  const metrics::PromRecorder& recorder,
                                                  const Clock& clock) {
  auto admin = std::make_unique<AdminListener>();
  if (cfg.admin.listen.empty()) {
    return admin;
  }
  std::string token;
  if (!cfg.admin.token_file.empty()) {
    auto read = ReadSecretFile(cfg.admin.token_file);
    if (!read) {
      return Fail(ErrorCode::kInvalidArgument, "admin.token_file: " + read.error().message);
    }
    token = std::string(read->Reveal());
    admin->token = true;
  }
  admin->handler = std::make_unique<server::AdminHandler>(apps, store, blocking, recorder, clock,
                                                          token, VENDO_VERSION);
  auto [host, port] = *server::SplitHostPort(cfg.admin.listen);
  server::HttpServerOptions options;
  options.host = host;
  options.port = port;
  options.threads = 1;
  options.max_connections = 64;
  options.tls_cert_file = cfg.admin.tls_cert_file;
  options.tls_key_file = cfg.admin.tls_key_file;
  options.tls_client_ca_file = cfg.admin.client_ca_file;
  admin->client_cert = !cfg.admin.client_ca_file.empty();
  auto made = server::HttpServer::Create(options, *admin->handler, clock);
  if (!made) {
    return Fail(made.error().code,
                "admin.listen " + cfg.admin.listen + ": " + made.error().message);
  }
  admin->server = std::move(*made);
  admin->url = std::string(admin->server->tls() ? "https://" : "http://") +
               (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
               std::to_string(admin->server->port());
  LogLine(LogLevel::kInfo, "admin listening")
      .Str("address", admin->url)
      .Bool("bearer_token_required", admin->token)
      .Bool("client_certificate_required", admin->client_cert)
      .Emit();
  if (admin->token && !admin->server->tls() && !net::IsLoopbackHost(host)) {
    LogLine(LogLevel::kWarn,
            "the admin bearer token crosses the network in the clear: set admin.tls_cert_file "
            "and admin.tls_key_file")
        .Str("address", admin->url)
        .Emit();
  }
  admin->thread = std::thread([s = admin->server.get()] { s->Run(); });
  return admin;
}

// The configuration serve runs with: --dev's built-in one, or the file's. The error is the
// exit code (the problems are printed).
std::expected<Config, int> ConfigFor(const ServeOptions& options) {
  if (!options.dev) {
    auto loaded = LoadConfigOrReport(options.config_file);
    if (!loaded) {
      return std::unexpected(2);
    }
    return std::move(*loaded);
  }
  if (!server::SplitHostPort(options.listen)) {
    std::fprintf(stderr, "vendo: --listen must be HOST:PORT, e.g. 127.0.0.1:8080\n");
    return std::unexpected(2);
  }
  if (std::string err = PrepareDevDataDir(options.data_dir); !err.empty()) {
    std::fprintf(stderr, "vendo: %s\n", err.c_str());
    return std::unexpected(1);
  }
  return server::DevConfig(options.listen, options.data_dir);
}

// Each configured app as the server runs it: its parsed policy template, its issuer, and for
// identity apps the decoy hash that unknown usernames are checked against.
Result<std::vector<std::unique_ptr<App>>> BuildApps(const Config& cfg, const IssuerSet& issuers,
                                                    Random& random) {
  std::vector<std::unique_ptr<App>> apps;
  for (const auto& app_cfg : cfg.apps) {
    auto policy = policy::Template::Parse(app_cfg.policy);
    if (!policy) {
      return Fail(ErrorCode::kInvalidArgument,
                  "apps." + app_cfg.name + ".policy: " + policy.error().message);
    }
    apps.push_back(std::make_unique<App>(App{app_cfg, std::move(*policy), issuers.For(app_cfg.name),
                                             "", AsciiLower(app_cfg.app_name)}));
    if (app_cfg.mode == protocol::legacy::Mode::kIdentity) {
      auto decoy = crypto::HashPassword(random.Hex(16), app_cfg.argon2, random);
      if (!decoy) {
        return Fail(decoy.error().code, "apps." + app_cfg.name + ": " + decoy.error().message);
      }
      apps.back()->decoy_password_hash = std::move(*decoy);
    }
  }
  return apps;
}

const App* FindApp(const std::vector<std::unique_ptr<App>>& apps, const std::string& name) {
  for (const auto& app : apps) {
    if (app->config.name == name) {
      return app.get();
    }
  }
  return nullptr;
}

std::vector<std::string> AppNames(const std::vector<std::unique_ptr<App>>& apps) {
  std::vector<std::string> names;
  names.reserve(apps.size());
  for (const auto& app : apps) {
    names.push_back(app->config.name);
  }
  return names;
}

// The transport's options: the configured ones, with the listen address, the handler deadline
// derived from the issuer and store waits, and one thread per core unless set.
server::HttpServerOptions HttpOptionsFor(const Config& cfg, metrics::Recorder& recorder) {
  auto [host, port] = *server::SplitHostPort(cfg.server.listen);
  server::HttpServerOptions http = cfg.server.http;
  http.handler_timeout = cfg.HandlerTimeout();
  http.host = host;
  http.port = port;
  http.recorder = &recorder;
  if (http.threads <= 0) {
    http.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  return http;
}

// Once the listener is bound: each app's endpoint as clients are configured with it (the
// salt of identity-mode password hashes), and a warning for 2012 traffic in the clear.
void PublishEndpoints(const Config& cfg, std::vector<std::unique_ptr<App>>& apps,
                      const std::string& base_url, bool tls) {
  for (auto& app : apps) {
    if (cfg.dev) {
      // Exactly the URL a client is configured with, so its salt matches ours.
      app->config.public_endpoint = base_url + "/apps/" + app->config.name;
    }
    app->salt_endpoint = protocol::legacy::NormalizeEndpoint(app->config.public_endpoint);
    if (app->config.allow_insecure_legacy && !tls && !cfg.dev) {
      LogLine(LogLevel::kWarn,
              "the 2012 protocol is served over plain HTTP: keys and passwords travel in the "
              "clear unless a TLS-terminating balancer is in front")
          .Str("app", app->config.name)
          .Emit();
    }
  }
}

// The start-up banner on stdout: the apps' URLs, and the admin listener's.
void Announce(const Config& cfg, const std::vector<std::unique_ptr<App>>& apps,
              const std::string& base_url, const AdminListener& admin) {
  PrintBanner(cfg, apps, base_url);
  if (admin.server) {
    std::printf("  admin %s (/metrics, /readyz, status page)%s%s\n", admin.url.c_str(),
                admin.token ? "  bearer token required" : "",
                admin.client_cert ? "  client certificate required" : "");
    std::fflush(stdout);
  }
}

}  // namespace

int Serve(const ServeOptions& options) {
  auto loaded = ConfigFor(options);
  if (!loaded) {
    return loaded.error();
  }
  Config cfg = std::move(*loaded);
  InitLogging(ParseLevel(cfg.server.log_level));
  auto fail = [](const std::string& what) {
    LogLine(LogLevel::kError, "cannot start").Str("error", what).Emit();
    ShutdownLogging();
    return 1;
  };

  RaiseFileLimit(cfg.server.http.max_connections);
  SystemClock clock;
  OsRandom random;
  auto master_key = crypto::LoadMasterKey(cfg.store.master_key_file);
  if (!master_key) {
    return fail(master_key.error().message);
  }
  crypto::SecretBox box(std::move(*master_key), random);
  auto store = OpenStore(StoreSettingsOf(cfg.store), box, clock);
  if (!store) {
    return fail("store " + cfg.store.location.Display() + ": " + store.error().message);
  }
  metrics::PromRecorder recorder(clock, VENDO_VERSION);
  store::TimedStore timed_store(*store->store, [&recorder](std::string_view op, auto latency) {
    recorder.StoreCall(op, latency);
  });
  store::CachingStore cached_store(timed_store, clock,
                                   {cfg.store.cache_ttl, cfg.store.cache_max_entries});
  auto issuers = IssuerSet::Build(cfg, clock, random);
  if (!issuers) {
    return fail(issuers.error().message);
  }
  (*issuers)->ExportTo(recorder);

  auto built = BuildApps(cfg, **issuers, random);
  if (!built) {
    return fail(built.error().message);
  }
  std::vector<std::unique_ptr<App>> apps = std::move(*built);
  auto providers = ProviderSet::Build(cfg, clock);
  if (!providers) {
    return fail(providers.error().message);
  }
  (*providers)->AttachTo(apps);

  auto audit_sink = server::OpenAuditSink(cfg.audit.file);
  if (!audit_sink) {
    return fail(audit_sink.error().message);
  }
  server::AuditLog audit(**audit_sink, clock);
  server::LegacyService service(cached_store, clock, random);
  server::V2Service v2(cached_store, clock, random);
  auto blocking = std::make_unique<server::ThreadPoolRunner>(kBlockingThreads);
  server::Limiter limiter(cached_store, clock, cfg.server.http.ipv6_prefix);
  server::ActivityTally tally(AppNames(apps), recorder);
  server::ThreadPoolRunner probes(1);  // /readyz, apart from the store workers
  server::AuditTrail trail(audit, tally);
  server::Vend vend(limiter, trail);
  server::Federation federation(cached_store, clock, random);
  server::Router router(apps, FindApp(apps, cfg.default_app), service, v2, federation, cached_store,
                        &cached_store.MemoryOnly(), probes,
                        {*blocking, trail, vend, limiter, random});

  server::HttpServerOptions http = HttpOptionsFor(cfg, recorder);
  auto server = server::HttpServer::Create(http, router, clock);
  if (!server) {
    return fail(server.error().message);
  }
  std::string authority =
      (http.host.find(':') != std::string::npos ? "[" + http.host + "]" : http.host) + ":" +
      std::to_string((*server)->port());
  std::string base_url = ((*server)->tls() ? "https://" : "http://") + authority;
  PublishEndpoints(cfg, apps, base_url, (*server)->tls());
  auto started_admin = StartAdmin(cfg, apps, cached_store, *blocking, recorder, clock);
  if (!started_admin) {
    return fail(started_admin.error().message);
  }
  std::unique_ptr<AdminListener> admin = std::move(*started_admin);
  auto flusher = std::make_unique<server::ActivityFlusher>(tally, cached_store, clock,
                                                           std::chrono::seconds(10));
  Announce(cfg, apps, base_url, *admin);
  LogLine(LogLevel::kInfo, "listening")
      .Str("address", authority)
      .Int("port", (*server)->port())
      .Bool("tls", (*server)->tls())
      .Int("threads", http.threads)
      .Bool("pin_threads", http.pin_threads)
      .Bool("dev", cfg.dev)
      .Emit();
  FlushLogs();

  (*server)->Run();
  admin->Stop();

  blocking.reset();  // finish queued store writes while the server's executors still exist
  flusher.reset();   // the last activity counts
  (*issuers)->LogStats();
  issuers->reset();  // stop STS calls still in flight before the server they answer goes
  LogLine(LogLevel::kInfo, "stopped").Emit();
  ShutdownLogging();
  return 0;
}

CommandRunner AddServeCommand(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  auto* serve_cmd = app.add_subcommand("serve", "Run the token vending machine server");
  auto* config_opt = serve_cmd
                         ->add_option("-c,--config", o->config_file,
                                      "TOML configuration file (see docs/configuration.md)")
                         ->check(CLI::ExistingFile);
  auto* dev_flag = serve_cmd->add_flag(
      "--dev", o->dev,
      "Development mode, no config file: anonymous app 'anonymous-demo' (also at /) and "
      "identity app 'identity-demo', dev issuer, data in --data-dir");
  auto* listen_opt = serve_cmd->add_option("--listen", o->listen, "HOST:PORT to listen on (--dev)")
                         ->capture_default_str();
  auto* data_opt = serve_cmd
                       ->add_option("--data-dir", o->data_dir,
                                    "Directory for the database and master key (--dev)")
                       ->capture_default_str();
  config_opt->excludes(dev_flag);
  listen_opt->needs(dev_flag);
  data_opt->needs(dev_flag);
  serve_cmd->footer(
      "SIGTERM or SIGINT drains in-flight requests, then exits 0.\n"
      "Logs are JSON lines on stderr; the startup banner goes to stdout.");

  return [serve_cmd, o]() -> std::optional<int> {
    if (!*serve_cmd) {
      return std::nullopt;
    }
    if (!o->dev && o->config_file.empty()) {
      std::fprintf(stderr,
                   "vendo serve: give --config FILE, or --dev for a development server\n"
                   "Run 'vendo serve --help' for details.\n");
      return 2;
    }
    return Serve(*o);
  };
}

}  // namespace vendo::cli
