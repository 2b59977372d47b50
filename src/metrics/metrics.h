// What vendo counts. Code that does the work records into a Recorder (an interface, so the
// HTTP server, router and store stay free of Prometheus); PromRecorder (prom_recorder.h)
// exposes the counts at /metrics, and Activity keeps the last hour for the status page.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace vendo::metrics {

class Recorder {
 public:
  virtual ~Recorder() = default;
  // One HTTP request, answered. `path` without its query string.
  virtual void Request(std::string_view app, std::string_view path, int status,
                       std::chrono::steady_clock::duration latency) = 0;
  // One audited event (register_device, register_user, login, vend, revoke_device, ...) and
  // its outcome ("ok" or an error code's name).
  virtual void Event(std::string_view app, std::string_view action, std::string_view outcome) = 0;
  // One call to the database (not to the record cache in front of it).
  virtual void StoreCall(std::string_view operation,
                         std::chrono::steady_clock::duration latency) = 0;
};

class NullRecorder final : public Recorder {
 public:
  void Request(std::string_view, std::string_view, int,
               std::chrono::steady_clock::duration) override {}
  void Event(std::string_view, std::string_view, std::string_view) override {}
  void StoreCall(std::string_view, std::chrono::steady_clock::duration) override {}
};

// The endpoint a path names, from a fixed set ("gettoken", "v2/token", "healthz", ...; "other"
// for anything else), so that labels cannot grow without bound.
std::string_view EndpointOf(std::string_view path);

}  // namespace vendo::metrics
