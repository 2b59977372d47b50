#include "store/group_commit.h"

#include <algorithm>
#include <vector>

namespace vendo::store {

struct GroupCommitter::Writer {
  Operation op;
  Status result;
  bool done = false;
  std::condition_variable cv;
};

GroupCommitter::GroupCommitter(std::unique_ptr<Connection> conn, std::size_t max_batch)
    : conn_(std::move(conn)), max_batch_(std::max<std::size_t>(1, max_batch)) {}

Status GroupCommitter::Run(Operation op) {
  Writer self{std::move(op), {}, false, {}};
  std::unique_lock lock(mu_);
  queue_.push_back(&self);
  self.cv.wait(lock, [&] { return self.done || queue_.front() == &self; });
  if (self.done) {
    return self.result;
  }
  // Leader. Queue members cannot leave until we mark them done, so the pointers stay valid.
  std::size_t n = std::min(queue_.size(), max_batch_);
  std::vector<Writer*> batch(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
  lock.unlock();

  Status commit = conn_->Exec("BEGIN IMMEDIATE");
  if (commit) {
    for (Writer* w : batch) {
      if (auto sp = conn_->Exec("SAVEPOINT op"); !sp) {
        w->result = sp;
        continue;
      }
      w->result = w->op(*conn_);
      if (!w->result) {
        (void)conn_->Exec("ROLLBACK TO op");
      }
      (void)conn_->Exec("RELEASE op");
    }
    commit = conn_->Exec("COMMIT");
    if (!commit) {
      (void)conn_->Exec("ROLLBACK");
    }
  }

  lock.lock();
  for (Writer* w : batch) {
    queue_.pop_front();
    if (!commit) {
      w->result = commit;
    }
    if (w != &self) {
      w->done = true;
      w->cv.notify_one();
    }
  }
  if (!queue_.empty()) {
    queue_.front()->cv.notify_one();
  }
  return self.result;
}

}  // namespace vendo::store
