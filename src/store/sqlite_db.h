// A thin RAII layer over the SQLite C API: a connection with cached prepared statements.
// Not thread-safe: one thread uses a connection at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vendo/result.h"

namespace vendo::store {

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, std::int64_t value);
  Statement& BindNull(int index);
  // Steps once. Returns true when a row is available, false when done.
  [[nodiscard]] Result<bool> Step();
  // Resets the statement and clears its bindings, ready for the next use.
  void Reset();

  std::string Text(int column) const;
  std::optional<std::string> OptionalText(int column) const;
  std::int64_t Int(int column) const;

 private:
  sqlite3_stmt* stmt_;
  int bind_error_ = SQLITE_OK;
};

class Connection {
 public:
  // Opens (creating if needed) the database at `path` in WAL mode with full fsync.
  [[nodiscard]] static Result<std::unique_ptr<Connection>> Open(const std::string& path);
  ~Connection();

  [[nodiscard]] Status Exec(std::string_view sql);
  // Returns the cached prepared statement for `sql` (reset, ready to bind). The SQL text is
  // the cache key, so pass string literals.
  [[nodiscard]] Result<Statement*> Prepare(const char* sql);
  int Changes() const { return sqlite3_changes(db_); }
  std::string LastError() const { return sqlite3_errmsg(db_); }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<const char*, std::unique_ptr<Statement>> cache_;
};

// Maps a SQLite result code to an error: busy and I/O conditions are kUnavailable.
Error SqliteError(int rc, std::string_view what);

// A statement borrowed from a connection's cache; resets it when the scope ends.
class ScopedStatement {
 public:
  explicit ScopedStatement(Statement* stmt) : stmt_(stmt) {}
  ~ScopedStatement() { stmt_->Reset(); }
  ScopedStatement(const ScopedStatement&) = delete;
  Statement* operator->() { return stmt_; }

 private:
  Statement* stmt_;
};

// Steps `stmt` once, for a statement that returns no rows.
[[nodiscard]] Status StepToEnd(Statement* stmt);

// Prepares `sql` (cached), lets `bind` set its parameters, and runs it to completion.
// Returns the number of rows it changed.
template <class Bind>
[[nodiscard]] Result<int> RunStatement(Connection& c, const char* sql, Bind&& bind) {
  auto stmt = c.Prepare(sql);
  if (!stmt) {
    return std::unexpected(stmt.error());
  }
  ScopedStatement s(*stmt);
  bind(**stmt);
  VENDO_RETURN_IF_ERROR(StepToEnd(*stmt));
  return c.Changes();
}

}  // namespace vendo::store
