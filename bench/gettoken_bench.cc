// The steps of one 2012 /gettoken, each timed on its own (Google Benchmark), to see where a
// request's CPU goes. Run: build/vendo_gettoken_bench
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "admin/activity_tally.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/random.h"
#include "crypto/hmac.h"
#include "crypto/secret_box.h"
#include "http/http_wire.h"
#include "issuer/caching_issuer.h"
#include "issuer/dev_issuer.h"
#include "metrics/prom_recorder.h"
#include "protocol/form.h"
#include "protocol/legacy.h"
#include "protocol/timestamp.h"
#include "store/caching_store.h"
#include "store/sqlite_store.h"
#include "vending/audit.h"
#include "vending/legacy_service.h"
#include "vending/limits.h"
#include "vending/v2_service.h"
#include "web/router.h"

namespace vendo {
namespace {

constexpr std::string_view kUid = "bench0123456789abcdef0123456789a";  // 32, as stock clients
constexpr std::string_view kKey = "000102030405060708090a0b0c0d0e0f";

std::string Now() {
  auto t = std::chrono::system_clock::now();
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

std::string Query() {
  std::string ts = Now();
  std::string sig = protocol::legacy::Sign(protocol::legacy::Mode::kAnonymous, kKey, ts);
  auto enc = [](const std::string& s) {
    std::string out;
    for (char c : s) {
      if (c == '+') {
        out += "%2B";
      } else if (c == '/') {
        out += "%2F";
      } else if (c == '=') {
        out += "%3D";
      } else if (c == ':') {
        out += "%3A";
      } else {
        out += c;
      }
    }
    return out;
  };
  return "uid=" + std::string(kUid) + "&timestamp=" + enc(ts) + "&signature=" + enc(sig);
}

// Members in the order they depend on each other, not packed.
struct Fixture {  // NOLINT(clang-analyzer-optin.performance.Padding)
  Fixture() {
    dir = std::filesystem::temp_directory_path() / ("vendo-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    sqlite = std::move(*store::SqliteStore::Open({(dir / "db").string(), 64}, box, clock));
    cached = std::make_unique<store::CachingStore>(*sqlite, clock, store::CacheOptions{});
    (void)cached->CreateDevice("bench", kUid, SecretString(std::string(kKey)));
    service = std::make_unique<server::LegacyService>(*cached, clock, random);
    server::AppConfig c;
    c.name = "bench";
    c.policy = policy::DefaultDevPolicy(false);
    app.emplace(server::App{c, *policy::Template::Parse(c.policy), &issuer, "", "bench"});
    // The whole handler, wired as `vendo serve` wires it (credential cache on, audit lines
    // written to /dev/null).
    c.allow_insecure_legacy = true;
    c.limits.tokens_per_device_per_minute = 0;
    served_apps.push_back(std::make_unique<server::App>(
        server::App{c, *policy::Template::Parse(c.policy), &cached_issuer, "", "bench"}));
    audit_sink = std::move(*server::OpenAuditSink("/dev/null"));
    audit = std::make_unique<server::AuditLog>(*audit_sink, clock);
    v2 = std::make_unique<server::V2Service>(*cached, clock, random);
    limiter = std::make_unique<server::Limiter>(*cached, clock);
    tally = std::make_unique<server::ActivityTally>(std::vector<std::string>{"bench"}, recorder);
    trail = std::make_unique<server::AuditTrail>(*audit, *tally);
    vend = std::make_unique<server::Vend>(*limiter, *trail);
    federation = std::make_unique<server::Federation>(*cached, clock, random);
    router = std::make_unique<server::Router>(
        served_apps, served_apps[0].get(), *service, *v2, *federation, *cached,
        &cached->MemoryOnly(), inline_runner,
        server::RouteParts{inline_runner, *trail, *vend, *limiter, random});
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
  SystemClock clock;
  OsRandom random;
  crypto::SecretBox box{SecretString(std::string(32, 'k')), random};
  issuer::DevIssuer issuer{clock, random};
  std::unique_ptr<store::SqliteStore> sqlite;
  std::unique_ptr<store::CachingStore> cached;
  std::unique_ptr<server::LegacyService> service;
  std::optional<server::App> app;

  struct InlineRunner final : vendo::TaskRunner {
    void Post(std::function<void()> task) override { task(); }
  };
  issuer::CachingIssuer cached_issuer{issuer, clock, random, 1000};
  metrics::PromRecorder recorder{clock};
  std::vector<std::unique_ptr<server::App>> served_apps;
  std::unique_ptr<server::AuditSink> audit_sink;
  std::unique_ptr<server::AuditLog> audit;
  std::unique_ptr<server::V2Service> v2;
  std::unique_ptr<server::Limiter> limiter;
  std::unique_ptr<server::ActivityTally> tally;
  InlineRunner inline_runner;
  std::unique_ptr<server::AuditTrail> trail;
  std::unique_ptr<server::Vend> vend;
  std::unique_ptr<server::Federation> federation;
  std::unique_ptr<server::Router> router;
};

Fixture& F() {
  static Fixture f;
  return f;
}

// Everything a /gettoken costs above the HTTP transport: routing, parameters, the device
// lookup, the signature, the credential cache, sealing, the audit line and the metrics.
void BM_RouterGetToken(benchmark::State& state) {
  server::HttpRequest request;
  request.method = "GET";
  request.target = "/gettoken?" + Query();
  request.request_id = "abcd1234-12345";
  request.client = "127.0.0.1";
  std::size_t bytes = 0;
  for (auto _ : state) {
    F().router->Handle(request, [&bytes](const server::HttpResponse& r) {
      bytes += r.status == 200 ? r.body.size() : 0;
    });
  }
  if (bytes == 0) {
    state.SkipWithError("no token was vended");
  }
}
BENCHMARK(BM_RouterGetToken)->Threads(1)->Threads(2);

// What the metrics cost a /gettoken: the request series (count, latency histogram) and the
// audited event (counters, the status page's activity, the store's tally), as serve wires it.
void BM_RecordMetrics(benchmark::State& state) {
  auto& f = F();
  for (auto _ : state) {
    f.recorder.Request("bench", "/gettoken", 200, std::chrono::microseconds(120));
    f.tally->Event("bench", "vend", "ok");
  }
}
BENCHMARK(BM_RecordMetrics)->Threads(1)->Threads(2);

void BM_ParseParams(benchmark::State& state) {
  std::string q = Query();
  for (auto _ : state) {
    benchmark::DoNotOptimize(server::Params::Parse(q, "", ""));
  }
}
BENCHMARK(BM_ParseParams);

void BM_HmacSign(benchmark::State& state) {
  std::string ts = Now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(protocol::legacy::Sign(protocol::legacy::Mode::kAnonymous, kKey, ts));
  }
}
BENCHMARK(BM_HmacSign);

void BM_CachedFindDevice(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(F().cached->FindDevice("bench", kUid));
  }
}
BENCHMARK(BM_CachedFindDevice);

void BM_SqliteFindDevice(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(F().sqlite->FindDevice("bench", kUid));
  }
}
BENCHMARK(BM_SqliteFindDevice);

void BM_AuthorizeToken(benchmark::State& state) {
  auto params = *server::Params::Parse(Query(), "", "");
  for (auto _ : state) {
    benchmark::DoNotOptimize(F().service->AuthorizeToken(*F().app, params));
  }
}
BENCHMARK(BM_AuthorizeToken);

void BM_DevIssue(benchmark::State& state) {
  issuer::IssueRequest req;
  for (auto _ : state) {
    F().issuer.Issue(req, [](Result<Credentials> c) { benchmark::DoNotOptimize(c); });
  }
}
BENCHMARK(BM_DevIssue);

void BM_SealToken(benchmark::State& state) {
  auto grant = *F().service->AuthorizeToken(*F().app, *server::Params::Parse(Query(), "", ""));
  Credentials creds{"VDEVABCDEFGHIJKLMNOP", std::string(40, 's'), std::string(138, 't'),
                    std::chrono::system_clock::now()};
  for (auto _ : state) {
    benchmark::DoNotOptimize(F().service->SealToken(grant.device_key, creds));
  }
}
BENCHMARK(BM_SealToken);

void BM_SerializeResponse(benchmark::State& state) {
  server::HttpResponse r;
  r.body = std::string(410, 'b');
  r.expires_now = true;
  for (auto _ : state) {
    benchmark::DoNotOptimize(server::SerializeResponse(
        r, {"OK", "Tue, 24 Nov 2026 05:00:00 GMT", "abcd1234-12345", true, false}));
  }
}
BENCHMARK(BM_SerializeResponse);

void BM_AccessLogLine(benchmark::State& state) {
  for (auto _ : state) {
    LogLine line(LogLevel::kDebug, "request");  // below the level: built, not written
    line.Str("request_id", "abcd1234-12345").Str("method", "GET").Str("path", "/gettoken");
    line.Int("status", 200).Num("latency_ms", 0.123).Int("bytes", 610).Str("app", "bench");
    line.Str("remote", "127.0.0.1");
    benchmark::DoNotOptimize(line);
  }
}
BENCHMARK(BM_AccessLogLine);

// An access log line built and appended to the buffered stderr sink, as the server does after
// each response (stderr goes to /dev/null here, as a file would take the writes).
void BM_AccessLogEmit(benchmark::State& state) {
  static const bool kReady = [] {
    int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ::dup2(null_fd, STDERR_FILENO);
    ::close(null_fd);
    InitLogging(LogLevel::kInfo);
    return true;
  }();
  benchmark::DoNotOptimize(kReady);
  for (auto _ : state) {
    LogLine(LogLevel::kInfo, "request")
        .Str("request_id", "abcd1234-12345")
        .Str("method", "GET")
        .Str("path", "/gettoken")
        .Int("status", 200)
        .Millis("latency_ms", 123)
        .Int("bytes", 610)
        .Str("app", "bench")
        .Str("remote", "127.0.0.1")
        .Emit();
  }
}
BENCHMARK(BM_AccessLogEmit)->Threads(1)->Threads(2);

void BM_RenderPolicy(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        F().app->policy.Render({"bench", std::string(kUid), "", "", "", "", "", {}}));
  }
}
BENCHMARK(BM_RenderPolicy);

void BM_ParseTimestamp(benchmark::State& state) {
  std::string ts = Now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(protocol::ParseLegacyTimestamp(ts));
  }
}
BENCHMARK(BM_ParseTimestamp);

void BM_ClockNow(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(F().clock.Now());
  }
}
BENCHMARK(BM_ClockNow);

}  // namespace
}  // namespace vendo

BENCHMARK_MAIN();
