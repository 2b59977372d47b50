// Fakes for the outbound I/O boundaries (net/transport.h), shared by unit tests.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <vector>

#include "common/clock.h"
#include "net/transport.h"
#include "testing/fixed_clock.h"

namespace vendo::testing {

inline net::HttpReply Reply(int status, std::string_view body) {
  return net::HttpReply{status, std::string(body), {}};
}

// Answers with scripted replies, in order, at once; kUnavailable when the script runs out.
class ScriptedTransport final : public net::HttpTransport {
 public:
  std::deque<Result<net::HttpReply>> script;
  std::vector<net::HttpCall> calls;
  void Send(net::HttpCall call, std::function<void(Result<net::HttpReply>)> done) override {
    calls.push_back(call);
    Result<net::HttpReply> next =
        script.empty() ? Result<net::HttpReply>(Fail(ErrorCode::kUnavailable, "down"))
                       : script.front();
    if (!script.empty()) {
      script.pop_front();
    }
    done(std::move(next));
  }
};

// Runs tasks at once, moving the clock by their delay.
class InstantScheduler final : public net::Scheduler {
 public:
  explicit InstantScheduler(FixedClock& clock) : clock_(clock) {}
  std::vector<std::chrono::milliseconds> delays;
  void After(std::chrono::milliseconds delay, std::function<void()> task) override {
    delays.push_back(delay);
    clock_.Advance(delay);
    task();
  }

 private:
  FixedClock& clock_;
};

}  // namespace vendo::testing
