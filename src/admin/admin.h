// AdminHandler: the admin listener's endpoints.
//
//   GET /metrics   Prometheus text format (metrics::PromRecorder)
//   GET /healthz   the process is up
//   GET /readyz    the store answers and every issuer holds credentials
//   GET /          the status page (status_page.h)
//
// With a token, every request must carry "Authorization: Bearer TOKEN" (compared in constant
// time); the config requires one when the listener is not on loopback.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/task_runner.h"
#include "http/http_types.h"
#include "metrics/prom_recorder.h"
#include "store/store.h"
#include "vending/app.h"

namespace vendo::server {

class AdminHandler final : public Handler {
 public:
  AdminHandler(const std::vector<std::unique_ptr<App>>& apps, store::Store& store,
               TaskRunner& blocking, const metrics::PromRecorder& metrics, const Clock& clock,
               std::string token, std::string version)
      : apps_(apps),
        store_(store),
        blocking_(blocking),
        metrics_(metrics),
        clock_(clock),
        token_(std::move(token)),
        version_(std::move(version)),
        started_(clock.Now()) {}

  void Handle(HttpRequest request, Responder respond) override;

 private:
  bool Authorized(const HttpRequest& request) const;

  const std::vector<std::unique_ptr<App>>& apps_;
  store::Store& store_;
  TaskRunner& blocking_;
  const metrics::PromRecorder& metrics_;
  const Clock& clock_;
  const std::string token_;
  const std::string version_;
  const std::chrono::system_clock::time_point started_;
};

}  // namespace vendo::server
