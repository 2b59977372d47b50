// A thin layer over libpq: one connection, results as RAII values, named prepared statements
// (prepared on first use, per connection), and PostgreSQL's errors mapped to vendo's codes.
// Parameters and results travel as text. Not thread-safe: one thread uses a connection at a
// time (PostgresStore's pool sees to that).
#pragma once

#include <libpq-fe.h>

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

struct PgStatement {
  const char* name;  // unique per statement text
  const char* sql;   // $1, $2, ... placeholders
};

using PgParam = std::optional<std::string_view>;  // nullopt = NULL

class PgConnection {
 public:
  // `url`: postgres://user@host:port/db?options. `password` may be empty (then libpq's own
  // sources apply: PGPASSWORD, ~/.pgpass).
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& url,
                                                       const SecretString& password);

  // Runs `stmt`, preparing it on this connection the first time.
  Result<PgResult> Query(const PgStatement& stmt, std::initializer_list<PgParam> params);
  // Runs SQL text without parameters (DDL, BEGIN/COMMIT, several statements).
  Result<PgResult> Exec(const std::string& sql);
  // True once the connection is lost: the pool drops it and opens another.
  bool Broken() const { return PQstatus(conn_.get()) != CONNECTION_OK; }

 private:
  explicit PgConnection(PGconn* c) : conn_(c, &PQfinish) {}
  Result<PgResult> Check(PGresult* r, const char* what);

  std::unique_ptr<PGconn, void (*)(PGconn*)> conn_;
  std::set<std::string, std::less<>> prepared_;
};

// Maps a SQLSTATE to vendo's codes: lost connections, shutdowns, overload, serialization
// failures and deadlocks are kUnavailable (retryable); unique violations kAlreadyExists;
// anything else kInternal.
ErrorCode PgErrorCode(std::string_view sqlstate);

}  // namespace vendo::store
