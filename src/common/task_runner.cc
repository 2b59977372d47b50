#include "common/task_runner.h"

namespace vendo {
namespace {

thread_local TaskRunner* t_network_thread = nullptr;

}  // namespace

TaskRunner* CurrentNetworkThread() { return t_network_thread; }

NetworkThreadScope::NetworkThreadScope(TaskRunner& runner) : previous_(t_network_thread) {
  t_network_thread = &runner;
}

NetworkThreadScope::~NetworkThreadScope() { t_network_thread = previous_; }

}  // namespace vendo
