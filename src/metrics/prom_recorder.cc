#include "metrics/prom_recorder.h"

#include <prometheus/collectable.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <tuple>
#include <vector>

#include "common/string_map.h"
#include "common/striped.h"
#include "metrics/process_metrics.h"

namespace vendo::metrics {
namespace {

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
        {"vendo_sts_not_retried_total",
         "Retryable STS failures not retried: the shared retry budget was spent",
         &IssuerCounters::sts_not_retried, true},
        {"vendo_sts_held_total", "Credential requests failed at once while STS throttled",
         &IssuerCounters::sts_held, true},
        {"vendo_credential_cache_failed_fast_total",
         "Credential requests answered with the principal's remembered failure",
         &IssuerCounters::cache_failed_fast, false},
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

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr std::array<double, 14> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  5,     10};

// One histogram series' counts: bucket i holds observations <= kLatencyBounds[i] (and above
// the bound before it); the last bucket the rest.
struct HistogramCounts {
  std::array<std::uint64_t, kLatencyBounds.size() + 1> buckets{};
  std::uint64_t count = 0;
  double sum = 0;

  void Observe(double v) {
    auto at = std::lower_bound(kLatencyBounds.begin(), kLatencyBounds.end(), v);
    ++buckets[static_cast<std::size_t>(at - kLatencyBounds.begin())];
    ++count;
    sum += v;
  }
  void Add(const HistogramCounts& o) {
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      buckets[i] += o.buckets[i];
    }
    count += o.count;
    sum += o.sum;
  }
  ClientMetric::Histogram ToClient() const {
    ClientMetric::Histogram h{.sample_count = count, .sample_sum = sum, .bucket = {}};
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      cumulative += buckets[i];
      h.bucket.push_back({cumulative, i < kLatencyBounds.size()
                                          ? kLatencyBounds[i]
                                          : std::numeric_limits<double>::infinity()});
    }
    return h;
  }
};

struct RequestCounts {
  std::string app, endpoint, status;
  std::uint64_t count = 0;
  HistogramCounts latency = {};
};

struct EventCounts {
  std::string app, action, outcome;
  std::uint64_t count = 0;
};

// One stripe's series, keyed by their label values joined with NULs. Labels are bounded
// (configured apps, EndpointOf's fixed set, status codes, error names), so these stay small.
struct Series {
  StringMap<RequestCounts> requests;
  StringMap<EventCounts> events;
  StringMap<HistogramCounts> store;
};

// The key of a label tuple, built in a per-thread buffer so that a lookup allocates nothing.
std::string_view JoinKey(std::initializer_list<std::string_view> parts) {
  thread_local std::string key;
  key.clear();
  for (std::string_view p : parts) {
    key.append(p).push_back('\0');
  }
  return key;
}

template <typename V, typename Make>
V& FindOrAdd(StringMap<V>& map, std::string_view key, Make make) {
  if (auto it = map.find(key); it != map.end()) {
    return it->second;
  }
  return map.emplace(std::string(key), make()).first->second;
}

ClientMetric Labelled(std::initializer_list<std::pair<const char*, std::string>> labels) {
  ClientMetric m;
  for (const auto& [name, value] : labels) {
    m.label.push_back({name, value});
  }
  return m;
}

ClientMetric CounterMetric(ClientMetric m, std::uint64_t value) {
  m.counter.value = static_cast<double>(value);
  return m;
}

bool IsLockout(std::string_view outcome) {
  return outcome == "locked" || outcome == "rate_limited" || outcome == "resource_exhausted";
}

}  // namespace

struct PromRecorder::Impl {
  std::shared_ptr<IssuerCollector> issuers = std::make_shared<IssuerCollector>();
  Striped<Series> series;

  // Every stripe summed, as the recorder's families, in a stable (sorted) order.
  std::vector<MetricFamily> Collect() const;
};

std::vector<MetricFamily> PromRecorder::Impl::Collect() const {
  using Key2 = std::pair<std::string, std::string>;
  using Key3 = std::tuple<std::string, std::string, std::string>;
  std::map<Key3, std::uint64_t> requests;
  std::map<Key2, HistogramCounts> latency;
  std::map<Key3, std::uint64_t> events;
  std::map<std::string, HistogramCounts> store;
  series.ForEach([&](const Series& s) {
    for (const auto& [_, r] : s.requests) {
      requests[{r.app, r.endpoint, r.status}] += r.count;
      latency[{r.app, r.endpoint}].Add(r.latency);
    }
    for (const auto& [_, e] : s.events) {
      events[{e.app, e.action, e.outcome}] += e.count;
    }
    for (const auto& [op, h] : s.store) {
      store[op].Add(h);
    }
  });

  MetricFamily req{"vendo_http_requests_total",
                   "HTTP requests by app, endpoint and status",
                   MetricType::Counter,
                   {}};
  for (const auto& [k, n] : requests) {
    const auto& [app, endpoint, status] = k;
    req.metric.push_back(
        CounterMetric(Labelled({{"app", app}, {"endpoint", endpoint}, {"status", status}}), n));
  }
  MetricFamily lat{"vendo_http_request_duration_seconds",
                   "Time from request to response",
                   MetricType::Histogram,
                   {}};
  for (const auto& [k, h] : latency) {
    ClientMetric m = Labelled({{"app", k.first}, {"endpoint", k.second}});
    m.histogram = h.ToClient();
    lat.metric.push_back(std::move(m));
  }
  MetricFamily regs{"vendo_registrations_total",
                    "Device and user registrations by outcome",
                    MetricType::Counter,
                    {}};
  MetricFamily logins{"vendo_logins_total", "Logins by outcome", MetricType::Counter, {}};
  MetricFamily lockouts{
      "vendo_lockouts_total", "Logins refused by the failed-login limits", MetricType::Counter, {}};
  MetricFamily vends{
      "vendo_vends_total", "Credential requests by outcome", MetricType::Counter, {}};
  MetricFamily all{
      "vendo_events_total", "Every audited event by action and outcome", MetricType::Counter, {}};
  std::map<Key2, std::uint64_t> reg_counts;  // register_device and register_user together
  std::map<std::string, std::uint64_t> lockout_counts;
  for (const auto& [k, n] : events) {
    const auto& [app, action, outcome] = k;
    all.metric.push_back(
        CounterMetric(Labelled({{"app", app}, {"action", action}, {"outcome", outcome}}), n));
    if (action == "register_device" || action == "register_user") {
      reg_counts[{app, outcome}] += n;
    } else if (action == "login") {
      logins.metric.push_back(CounterMetric(Labelled({{"app", app}, {"outcome", outcome}}), n));
      if (IsLockout(outcome)) {
        lockout_counts[app] += n;
      }
    } else if (action == "vend") {
      vends.metric.push_back(CounterMetric(Labelled({{"app", app}, {"outcome", outcome}}), n));
    }
  }
  for (const auto& [k, n] : reg_counts) {
    regs.metric.push_back(CounterMetric(Labelled({{"app", k.first}, {"outcome", k.second}}), n));
  }
  for (const auto& [app, n] : lockout_counts) {
    lockouts.metric.push_back(CounterMetric(Labelled({{"app", app}}), n));
  }
  MetricFamily st{"vendo_store_call_duration_seconds",
                  "Database calls (behind the record cache)",
                  MetricType::Histogram,
                  {}};
  for (const auto& [op, h] : store) {
    ClientMetric m = Labelled({{"operation", op}});
    m.histogram = h.ToClient();
    st.metric.push_back(std::move(m));
  }
  std::vector<MetricFamily> out;
  for (MetricFamily* f : {&req, &lat, &regs, &logins, &lockouts, &vends, &all, &st}) {
    out.push_back(std::move(*f));
  }
  return out;
}

PromRecorder::PromRecorder(const Clock& clock, std::string version)
    : impl_(std::make_unique<Impl>()), activity_(clock), version_(std::move(version)) {}

PromRecorder::~PromRecorder() = default;

void PromRecorder::Request(std::string_view app, std::string_view path, int status,
                           std::chrono::steady_clock::duration latency) {
  std::string_view endpoint = EndpointOf(path);
  char digits[16];
  auto end = std::to_chars(digits, digits + sizeof digits, status).ptr;
  std::string_view code(digits, static_cast<std::size_t>(end - digits));
  double seconds = std::chrono::duration<double>(latency).count();
  impl_->series.Update([&](Series& s) {
    RequestCounts& r = FindOrAdd(s.requests, JoinKey({app, endpoint, code}), [&] {
      return RequestCounts{
          .app = std::string(app), .endpoint = std::string(endpoint), .status = std::string(code)};
    });
    ++r.count;
    r.latency.Observe(seconds);
  });
}

void PromRecorder::Event(std::string_view app, std::string_view action, std::string_view outcome) {
  impl_->series.Update([&](Series& s) {
    EventCounts& e = FindOrAdd(s.events, JoinKey({app, action, outcome}), [&] {
      return EventCounts{
          .app = std::string(app), .action = std::string(action), .outcome = std::string(outcome)};
    });
    ++e.count;
  });
  activity_.Event(app, action, outcome);
}

void PromRecorder::StoreCall(std::string_view operation,
                             std::chrono::steady_clock::duration latency) {
  double seconds = std::chrono::duration<double>(latency).count();
  impl_->series.Update([&](Series& s) {
    FindOrAdd(s.store, operation, [] { return HistogramCounts{}; }).Observe(seconds);
  });
}

void PromRecorder::AddIssuer(std::string app, std::string issuer,
                             std::function<IssuerCounters()> read) {
  impl_->issuers->Add({std::move(app), std::move(issuer), std::move(read)});
}

std::string PromRecorder::Scrape() const {
  std::ostringstream out;
  auto families = impl_->Collect();
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
