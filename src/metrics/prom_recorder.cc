#include "metrics/prom_recorder.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>
#include <sstream>
#include <tuple>
#include <vector>

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

  // Family::Add locks the family; requests look their series up here first.
  std::mutex mu;
  std::map<std::tuple<std::string, std::string_view, int>, std::pair<Counter*, Histogram*>> series;
};

PromRecorder::PromRecorder(const Clock& clock)
    : impl_(std::make_unique<Impl>()), activity_(clock) {}

PromRecorder::~PromRecorder() = default;

void PromRecorder::Request(std::string_view app, std::string_view path, int status,
                           std::chrono::steady_clock::duration latency) {
  std::string_view endpoint = EndpointOf(path);
  std::pair<Counter*, Histogram*> s;
  {
    std::lock_guard lock(impl_->mu);
    auto key = std::tuple{std::string(app), endpoint, status};
    auto it = impl_->series.find(key);
    if (it == impl_->series.end()) {
      std::string a(app), e(endpoint);
      s = {&impl_->requests.Add({{"app", a}, {"endpoint", e}, {"status", std::to_string(status)}}),
           &impl_->latency.Add({{"app", a}, {"endpoint", e}}, LatencyBuckets())};
      impl_->series.emplace(std::move(key), s);
    } else {
      s = it->second;
    }
  }
  s.first->Increment();
  s.second->Observe(Seconds(latency));
}

void PromRecorder::Event(std::string_view app, std::string_view action, std::string_view outcome) {
  std::string a(app), o(outcome);
  impl_->events.Add({{"app", a}, {"action", std::string(action)}, {"outcome", o}}).Increment();
  if (action == "register_device" || action == "register_user") {
    impl_->registrations.Add({{"app", a}, {"outcome", o}}).Increment();
  } else if (action == "login") {
    impl_->logins.Add({{"app", a}, {"outcome", o}}).Increment();
    if (outcome == "locked" || outcome == "rate_limited" || outcome == "resource_exhausted") {
      impl_->lockouts.Add({{"app", a}}).Increment();
    }
  } else if (action == "vend") {
    impl_->vends.Add({{"app", a}, {"outcome", o}}).Increment();
  }
  activity_.Event(app, action, outcome);
}

void PromRecorder::StoreCall(std::string_view operation,
                             std::chrono::steady_clock::duration latency) {
  impl_->store.Add({{"operation", std::string(operation)}}, LatencyBuckets())
      .Observe(Seconds(latency));
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
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace vendo::metrics
