// GroupCommitter: many concurrent writes, one transaction and one fsync.
//
// The leveldb writer-queue pattern: each caller enqueues its operation and waits. The caller
// at the front of the queue becomes the leader: it takes up to `max_batch` queued operations,
// runs each inside a savepoint of one transaction, commits once, and wakes the others with
// their own results. Operations that arrive during a commit form the next batch, so the
// batch size adapts to the load. With max_batch = 1 this degrades to one commit per write
// (the naive baseline that `make bench` compares against).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "store/sqlite_db.h"

namespace vendo::store {

class GroupCommitter {
 public:
  using Operation = std::function<Status(Connection&)>;

  GroupCommitter(std::unique_ptr<Connection> conn, std::size_t max_batch);

  // Runs `op` in a transaction and returns its result once the transaction is durable.
  // If `op` fails, its own writes are rolled back and the others' are kept. If the commit
  // itself fails, every operation in the batch fails with that error. Thread-safe.
  [[nodiscard]] Status Run(Operation op);

 private:
  struct Writer;

  std::mutex mu_;
  std::deque<Writer*> queue_;
  std::unique_ptr<Connection> conn_;
  std::size_t max_batch_;
};

}  // namespace vendo::store
