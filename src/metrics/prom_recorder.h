// PromRecorder: the Recorder behind /metrics, on prometheus-cpp (Prometheus text format).
//
// Families (every counter ends in _total):
//   vendo_http_requests_total{app,endpoint,status},
//   vendo_http_request_duration_seconds{app,endpoint} vendo_registrations_total{app,outcome},
//   vendo_logins_total{app,outcome}, vendo_lockouts_total{app}, vendo_vends_total{app,outcome},
//   vendo_events_total{app,action,outcome} vendo_store_call_duration_seconds{operation}
//   vendo_credential_cache_{hits,misses}_total{app},
//   vendo_sts_{calls,errors,throttles}_total{app,issuer}
// The last two come from the issuers' own counters, read at each scrape (AddIssuer). Then the
// process_* families and vendo_build_info{version} (process_metrics.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "metrics/activity.h"
#include "metrics/metrics.h"

namespace vendo::metrics {

struct IssuerCounters {
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t sts_calls = 0;
  std::uint64_t sts_errors = 0;
  std::uint64_t sts_throttles = 0;
  std::uint64_t sts_not_retried = 0;     // the retry budget was spent
  std::uint64_t sts_held = 0;            // failed at once while STS throttled
  std::uint64_t cache_failed_fast = 0;   // a principal's remembered failure, answered again
};

class PromRecorder final : public Recorder {
 public:
  // `version` labels vendo_build_info.
  explicit PromRecorder(const Clock& clock, std::string version = "");
  ~PromRecorder() override;

  void Request(std::string_view app, std::string_view path, int status,
               std::chrono::steady_clock::duration latency) override;
  void Event(std::string_view app, std::string_view action, std::string_view outcome) override;
  void StoreCall(std::string_view operation, std::chrono::steady_clock::duration latency) override;

  // Reports an app's issuer counters at every scrape. Call before serving.
  void AddIssuer(std::string app, std::string issuer, std::function<IssuerCounters()> read);

  // Everything, in the Prometheus text exposition format (version 0.0.4).
  std::string Scrape() const;
  const Activity& activity() const { return activity_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Activity activity_;
  std::string version_;
};

}  // namespace vendo::metrics
