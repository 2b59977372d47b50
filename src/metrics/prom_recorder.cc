#include "metrics/prom_recorder.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <vector>

#include "metrics/process_metrics.h"

namespace vendo::metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Histogram;

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

std::uint64_t NextRecorderId() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The issuers' counters, read when scraped.
class IssuerCollector final : public prometheus::Collectable {
 public:
  struct Source {
    std::string app, issuer;
    std::function<IssuerCounters()> read;
  };

  void Add(Source s) {
    std::lock_guard lock(mu_);
    sources_.push_back(std::move(s));
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::ClientMetric;
    using prometheus::MetricFamily;
    using prometheus::MetricType;
    struct Spec {
      const char* name;
      const char* help;
      std::uint64_t IssuerCounters::*field;
      bool per_issuer;
    };
    static const Spec kSpecs[] = {
        {"vendo_credential_cache_hits_total", "Credential requests answered from the cache",
         &IssuerCounters::cache_hits, false},
        {"vendo_credential_cache_misses_total", "Credential requests that called the issuer",
         &IssuerCounters::cache_misses, false},
        {"vendo_sts_calls_total", "STS calls (attempts, retries included)",
         &IssuerCounters::sts_calls, true},
        {"vendo_sts_errors_total", "STS calls that failed after their retries",
         &IssuerCounters::sts_errors, true},
        {"vendo_sts_throttles_total", "STS answers that said slow down",
         &IssuerCounters::sts_throttles, true},
    };
    std::lock_guard lock(mu_);
    std::vector<IssuerCounters> values;
    values.reserve(sources_.size());
    for (const auto& s : sources_) {
      values.push_back(s.read());
    }
    std::vector<MetricFamily> out;
    for (const Spec& spec : kSpecs) {
      MetricFamily family{spec.name, spec.help, MetricType::Counter, {}};
      for (std::size_t i = 0; i < sources_.size(); ++i) {
        ClientMetric m;
        m.label.push_back({"app", sources_[i].app});
        if (spec.per_issuer) {
          m.label.push_back({"issuer", sources_[i].issuer});
        }
        m.counter.value = static_cast<double>(values[i].*spec.field);
        family.metric.push_back(std::move(m));
      }
      out.push_back(std::move(family));
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Source> sources_;
};

}  // namespace

struct PromRecorder::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<IssuerCollector> issuers = std::make_shared<IssuerCollector>();
  Family<Counter>& requests = prometheus::BuildCounter()
                                  .Name("vendo_http_requests_total")
                                  .Help("HTTP requests by app, endpoint and status")
                                  .Register(*registry);
  Family<Histogram>& latency = prometheus::BuildHistogram()
                                   .Name("vendo_http_request_duration_seconds")
                                   .Help("Time from request to response")
                                   .Register(*registry);
  Family<Counter>& registrations = prometheus::BuildCounter()
                                       .Name("vendo_registrations_total")
                                       .Help("Device and user registrations by outcome")
                                       .Register(*registry);
  Family<Counter>& logins = prometheus::BuildCounter()
                                .Name("vendo_logins_total")
                                .Help("Logins by outcome")
                                .Register(*registry);
  Family<Counter>& lockouts = prometheus::BuildCounter()
                                  .Name("vendo_lockouts_total")
                                  .Help("Logins refused by the failed-login limits")
                                  .Register(*registry);
  Family<Counter>& vends = prometheus::BuildCounter()
                               .Name("vendo_vends_total")
                               .Help("Credential requests by outcome")
                               .Register(*registry);
  Family<Counter>& events = prometheus::BuildCounter()
                                .Name("vendo_events_total")
                                .Help("Every audited event by action and outcome")
                                .Register(*registry);
  Family<Histogram>& store = prometheus::BuildHistogram()
                                 .Name("vendo_store_call_duration_seconds")
                                 .Help("Database calls (behind the record cache)")
                                 .Register(*registry);

  // Family::Add locks the family and builds a label map, so each thread keeps the series it
  // has used before (labels are bounded: configured apps, fixed endpoints and error codes).
  const std::uint64_t id = NextRecorderId();
};

namespace {

struct RequestSeries {
  std::string app;
  std::string_view endpoint;  // one of EndpointOf's literals
  int status = 0;
  Counter* count = nullptr;
  Histogram* latency = nullptr;
};

struct EventSeries {
  std::string app, action, outcome;
  std::vector<Counter*> counters = {};  // every family the event counts in
};

struct StoreSeries {
  std::string operation;
  Histogram* latency = nullptr;
};

// One thread's series for one recorder; dropped when the thread records into another.
struct ThreadCache {
  static constexpr std::size_t kMaxEntries = 512;  // beyond this, look up without caching
  std::uint64_t owner = 0;
  std::vector<RequestSeries> requests = {};
  std::vector<EventSeries> events = {};
  std::vector<StoreSeries> store = {};

  static ThreadCache& For(std::uint64_t recorder) {
    thread_local ThreadCache cache;
    if (cache.owner != recorder) {
      cache = ThreadCache{.owner = recorder};
    }
    return cache;
  }
};

template <typename Entry, typename Match, typename Make>
const Entry& Find(std::vector<Entry>& entries, Match match, Make make, Entry& spare) {
  for (const Entry& e : entries) {
    if (match(e)) {
      return e;
    }
  }
  if (entries.size() >= ThreadCache::kMaxEntries) {
    spare = make();
    return spare;
  }
  return entries.emplace_back(make());
}

}  // namespace

PromRecorder::PromRecorder(const Clock& clock, std::string version)
    : impl_(std::make_unique<Impl>()), activity_(clock), version_(std::move(version)) {}

PromRecorder::~PromRecorder() = default;

void PromRecorder::Request(std::string_view app, std::string_view path, int status,
                           std::chrono::steady_clock::duration latency) {
  std::string_view endpoint = EndpointOf(path);
  RequestSeries spare;
  const RequestSeries& s = Find(
      ThreadCache::For(impl_->id).requests,
      [&](const RequestSeries& e) {
        return e.status == status && e.endpoint == endpoint && e.app == app;
      },
      [&] {
        std::string a(app), e(endpoint);
        return RequestSeries{
            .app = a,
            .endpoint = endpoint,
            .status = status,
            .count = &impl_->requests.Add(
                {{"app", a}, {"endpoint", e}, {"status", std::to_string(status)}}),
            .latency = &impl_->latency.Add({{"app", a}, {"endpoint", e}}, LatencyBuckets())};
      },
      spare);
  s.count->Increment();
  s.latency->Observe(Seconds(latency));
}

void PromRecorder::Event(std::string_view app, std::string_view action, std::string_view outcome) {
  EventSeries spare;
  const EventSeries& s = Find(
      ThreadCache::For(impl_->id).events,
      [&](const EventSeries& e) {
        return e.outcome == outcome && e.action == action && e.app == app;
      },
      [&] {
        std::string a(app), o(outcome);
        EventSeries made{.app = a, .action = std::string(action), .outcome = o};
        made.counters.push_back(
            &impl_->events.Add({{"app", a}, {"action", made.action}, {"outcome", o}}));
        if (action == "register_device" || action == "register_user") {
          made.counters.push_back(&impl_->registrations.Add({{"app", a}, {"outcome", o}}));
        } else if (action == "login") {
          made.counters.push_back(&impl_->logins.Add({{"app", a}, {"outcome", o}}));
          if (outcome == "locked" || outcome == "rate_limited" || outcome == "resource_exhausted") {
            made.counters.push_back(&impl_->lockouts.Add({{"app", a}}));
          }
        } else if (action == "vend") {
          made.counters.push_back(&impl_->vends.Add({{"app", a}, {"outcome", o}}));
        }
        return made;
      },
      spare);
  for (Counter* c : s.counters) {
    c->Increment();
  }
  activity_.Event(app, action, outcome);
}

void PromRecorder::StoreCall(std::string_view operation,
                             std::chrono::steady_clock::duration latency) {
  StoreSeries spare;
  const StoreSeries& s = Find(
      ThreadCache::For(impl_->id).store,
      [&](const StoreSeries& e) { return e.operation == operation; },
      [&] {
        std::string op(operation);
        return StoreSeries{.operation = op,
                           .latency = &impl_->store.Add({{"operation", op}}, LatencyBuckets())};
      },
      spare);
  s.latency->Observe(Seconds(latency));
}

void PromRecorder::AddIssuer(std::string app, std::string issuer,
                             std::function<IssuerCounters()> read) {
  impl_->issuers->Add({std::move(app), std::move(issuer), std::move(read)});
}

std::string PromRecorder::Scrape() const {
  std::ostringstream out;
  auto families = impl_->registry->Collect();
  for (auto& family : impl_->issuers->Collect()) {
    families.push_back(std::move(family));
  }
  for (auto& family : ProcessFamilies(version_)) {
    families.push_back(std::move(family));
  }
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace vendo::metrics
