#include "store/pg_conn.h"

#include <charconv>

namespace vendo::store {
namespace {

constexpr const char* kConnectTimeoutSeconds = "3";

// libpq's message without its trailing newline.
std::string Trimmed(const char* message) {
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) {
    m.pop_back();
  }
  return m;
}

std::int64_t ParseInt(const char* text) {
  std::int64_t v = 0;
  std::string_view s(text);
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::int64_t PgResult::Int(int row, int col) const {
  return ParseInt(PQgetvalue(r_.get(), row, col));
}

std::int64_t PgResult::Affected() const { return ParseInt(PQcmdTuples(r_.get())); }

ErrorCode PgErrorCode(std::string_view sqlstate) {
  if (sqlstate == "23505") {
    return ErrorCode::kAlreadyExists;
  }
  auto cls = sqlstate.substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57" || sqlstate == "40001" || sqlstate == "40P01" ||
      sqlstate.empty()) {
    return ErrorCode::kUnavailable;  // an empty state: the connection itself failed
  }
  return ErrorCode::kInternal;
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& url,
                                                            const SecretString& password) {
  std::string pw(password.Reveal());
  const char* keys[] = {"dbname", "connect_timeout", "application_name", "password", nullptr};
  const char* values[] = {url.c_str(), kConnectTimeoutSeconds, "vendo",
                          pw.empty() ? nullptr : pw.c_str(), nullptr};
  if (pw.empty()) {
    keys[3] = nullptr;
  }
  PGconn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  OPENSSL_cleanse(pw.data(), pw.size());
  std::unique_ptr<PgConnection> conn(new PgConnection(raw));
  if (raw == nullptr) {
    return Fail(ErrorCode::kUnavailable, "postgres: out of memory");
  }
  if (PQstatus(raw) != CONNECTION_OK) {
    return Fail(ErrorCode::kUnavailable, "postgres: " + Trimmed(PQerrorMessage(raw)));
  }
  // NOTICEs ("relation already exists, skipping") would go to stderr, outside the JSON log.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  return conn;
}

Result<PgResult> PgConnection::Check(PGresult* r, const char* what) {
  PgResult result(r);
  ExecStatusType status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    return result;
  }
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = r != nullptr ? Trimmed(PQresultErrorMessage(r)) : "";
  if (message.empty()) {
    message = Trimmed(PQerrorMessage(conn_.get()));
  }
  ErrorCode code = Broken() ? ErrorCode::kUnavailable : PgErrorCode(state != nullptr ? state : "");
  return Fail(code, std::string("postgres ") + what + ": " + message);
}

Result<PgResult> PgConnection::Query(const PgStatement& stmt,
                                     std::initializer_list<PgParam> params) {
  if (prepared_.find(stmt.name) == prepared_.end()) {
    auto prepared = Check(PQprepare(conn_.get(), stmt.name, stmt.sql, 0, nullptr), stmt.name);
    if (!prepared) {
      return std::unexpected(prepared.error());
    }
    prepared_.insert(stmt.name);
  }
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<std::string> owned;  // text values need not be NUL-terminated in a string_view
  owned.reserve(params.size());
  for (const auto& p : params) {
    if (p) {
      owned.emplace_back(*p);
      values.push_back(owned.back().c_str());
      lengths.push_back(static_cast<int>(owned.back().size()));
    } else {
      values.push_back(nullptr);
      lengths.push_back(0);
    }
  }
  return Check(PQexecPrepared(conn_.get(), stmt.name, static_cast<int>(values.size()),
                              values.data(), lengths.data(), nullptr, 0),
               stmt.name);
}

Result<PgResult> PgConnection::Exec(const std::string& sql) {
  return Check(PQexec(conn_.get(), sql.c_str()), "exec");
}

}  // namespace vendo::store
