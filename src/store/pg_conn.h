// A thin layer over libpq: one connection, results as RAII values, named prepared statements
// (prepared on first use, per connection), and PostgreSQL's errors mapped to vendo's codes.
// Parameters and results travel as text. Not thread-safe: one thread uses a connection at a
// time (PostgresStore's pool sees to that).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/secret.h"
#include "vendo/result.h"

namespace vendo::store {

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int Rows() const { return PQntuples(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
  }
  std::optional<std::string> OptionalText(int row, int col) const {
    return IsNull(row, col) ? std::nullopt : std::optional<std::string>(Text(row, col));
  }
  std::int64_t Int(int row, int col) const;
  // Rows an INSERT, UPDATE or DELETE changed.
  std::int64_t Affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

// How long a connection may wait on the server. A PostgreSQL that stops answering (frozen,
// a network that drops packets) must fail calls in bounded time, not hold threads forever.
struct PgTimeouts {
  // Opening a connection (TCP, TLS, authentication).
  std::chrono::milliseconds connect{3000};
  // Each statement: the client gives up and drops the connection after this (libpq would
  // wait forever on a server that accepted the query and went silent), and the server
  // cancels a statement that runs longer. 0: no limit (migrations).
  std::chrono::milliseconds statement{3000};
  // TCP_USER_TIMEOUT: sent data unacknowledged this long breaks the connection (0: the
  // kernel's default, many minutes).
  std::chrono::milliseconds tcp_user_timeout{10000};
  // TCP keepalives on an idle connection: first probe after this many seconds.
  int keepalive_idle_seconds = 30;
};

struct PgStatement {
  const char* name;  // unique per statement text
  const char* sql;   // $1, $2, ... placeholders
};

using PgParam = std::optional<std::string_view>;  // nullopt = NULL

class PgConnection {
 public:
  // `url`: postgres://user@host:port/db?options. `password` may be empty (then libpq's own
  // sources apply: PGPASSWORD, ~/.pgpass).
  [[nodiscard]] static Result<std::unique_ptr<PgConnection>> Connect(
      const std::string& url, const SecretString& password, const PgTimeouts& timeouts = {});

  // Runs `stmt`, preparing it on this connection the first time.
  [[nodiscard]] Result<PgResult> Query(const PgStatement& stmt,
                                       std::initializer_list<PgParam> params);
  // Runs SQL text without parameters (DDL, BEGIN/COMMIT, several statements).
  [[nodiscard]] Result<PgResult> Exec(const std::string& sql);
  // True once the connection is lost or timed out: the pool drops it and opens another.
  bool Broken() const { return timed_out_ || PQstatus(conn_.get()) != CONNECTION_OK; }

 private:
  PgConnection(PGconn* c, std::chrono::milliseconds statement)
      : conn_(c, &PQfinish), statement_timeout_(statement) {}
  [[nodiscard]] Result<PgResult> Check(PGresult* r, const char* what);
  // Waits for the answer to the query just sent (all of its results), within the statement
  // timeout; a connection that times out is broken from then on.
  [[nodiscard]] Result<PgResult> Await(const char* what);
  // Waits until the socket is ready for `events` or `deadline` passes.
  bool WaitSocket(short events, std::chrono::steady_clock::time_point deadline);

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
  std::chrono::milliseconds statement_timeout_;
  bool timed_out_ = false;
  std::set<std::string, std::less<>> prepared_;
};

// Maps a SQLSTATE to vendo's codes: lost connections, shutdowns, overload, serialization
// failures and deadlocks are kUnavailable (retryable); unique violations kAlreadyExists;
// anything else kInternal.
ErrorCode PgErrorCode(std::string_view sqlstate);

}  // namespace vendo::store
