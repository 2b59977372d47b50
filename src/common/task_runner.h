// TaskRunner: where work runs. The HTTP transport gives each network thread one (its event
// loop), and a pool of threads takes the work that may block (store calls); the use cases
// take runners, never threads, so tests run them inline.
#pragma once

#include <functional>

namespace vendo {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  virtual void Post(std::function<void()> task) = 0;
};

// The network thread the caller runs on, as a runner whose tasks run once the work already
// queued on that thread is done (so requests answered in one turn of its event loop can share
// a system call); null on every other thread.
TaskRunner* CurrentNetworkThread();

// While one lives, the calling thread is a network thread whose runner is `runner` (the
// transport makes one around each thread's event loop).
class NetworkThreadScope {
 public:
  explicit NetworkThreadScope(TaskRunner& runner);
  ~NetworkThreadScope();
  NetworkThreadScope(const NetworkThreadScope&) = delete;
  NetworkThreadScope& operator=(const NetworkThreadScope&) = delete;

 private:
  TaskRunner* previous_;
};

}  // namespace vendo
