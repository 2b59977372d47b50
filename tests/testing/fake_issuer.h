// FakeIssuer: records each request and holds its callback until the test answers it, with
// credentials or with an error.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "issuer/issuer.h"

namespace vendo::testing {

class FakeIssuer final : public issuer::Issuer {
 public:
  explicit FakeIssuer(const Clock& clock) : clock_(clock) {}
  void Issue(issuer::IssueRequest request, issuer::IssueCallback done) override {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    pending_.emplace_back(std::move(request), std::move(done));
  }
  std::string_view Kind() const override { return "fake"; }
  std::size_t MaxSessionNameLength() const override { return 32; }

  // Answers every pending call, with credentials unless `fail`.
  void CompleteAll(bool fail = false, ErrorCode code = ErrorCode::kUnavailable) {
    std::vector<std::pair<issuer::IssueRequest, issuer::IssueCallback>> pending;
    {
      std::lock_guard lock(mu_);
      pending.swap(pending_);
    }
    for (auto& [req, done] : pending) {
      if (fail) {
        done(Fail(code, "throttled"));
      } else {
        std::string akid = "AKID";
        akid.append(std::to_string(++serial_));
        done(Credentials{akid, "secret", "token", clock_.Now() + req.duration});
      }
    }
  }
  std::size_t calls() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  issuer::IssueRequest request(std::size_t i) {
    std::lock_guard lock(mu_);
    return requests_.at(i);
  }

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::vector<issuer::IssueRequest> requests_;
  std::vector<std::pair<issuer::IssueRequest, issuer::IssueCallback>> pending_;
  int serial_ = 0;
};

}  // namespace vendo::testing
