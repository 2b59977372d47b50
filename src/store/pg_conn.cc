#include "store/pg_conn.h"

#include <poll.h>

#include <cerrno>
#include <charconv>

namespace vendo::store {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

SteadyTime DeadlineAfter(std::chrono::milliseconds timeout) {
  return timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout : SteadyTime::max();
}

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
                                                            const SecretString& password,
                                                            const PgTimeouts& timeouts) {
  std::string pw(password.Reveal());
  std::string user_timeout = std::to_string(timeouts.tcp_user_timeout.count());
  std::string idle = std::to_string(timeouts.keepalive_idle_seconds);
  std::string options = timeouts.statement.count() > 0
                            ? "-c statement_timeout=" + std::to_string(timeouts.statement.count())
                            : std::string();
  std::vector<const char*> keys = {"dbname",          "application_name",    "keepalives",
                                   "keepalives_idle", "keepalives_interval", "keepalives_count",
                                   "tcp_user_timeout"};
  std::vector<const char*> values = {url.c_str(),         "vendo", "1", idle.c_str(), "5", "3",
                                     user_timeout.c_str()};
  if (!options.empty()) {
    keys.push_back("options");
    values.push_back(options.c_str());
  }
  if (!pw.empty()) {
    keys.push_back("password");
    values.push_back(pw.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // Connects without blocking, so that a server that accepts and then says nothing costs
  // the statement timeout, not forever.
  PGconn* raw = PQconnectStartParams(keys.data(), values.data(), /*expand_dbname=*/1);
  OPENSSL_cleanse(pw.data(), pw.size());
  if (raw == nullptr) {
    return Fail(ErrorCode::kUnavailable, "postgres: out of memory");
  }
  std::unique_ptr<PgConnection> conn(new PgConnection(raw, timeouts.statement));
  SteadyTime deadline = DeadlineAfter(timeouts.connect);
  PostgresPollingStatusType step = PGRES_POLLING_WRITING;
  while (PQstatus(raw) != CONNECTION_BAD && step != PGRES_POLLING_OK &&
         step != PGRES_POLLING_FAILED) {
    if (!conn->WaitSocket(step == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) {
      return Fail(ErrorCode::kDeadlineExceeded, "postgres: no answer to connect within " +
                                                    std::to_string(timeouts.connect.count()) +
                                                    " ms");
    }
    step = PQconnectPoll(raw);
  }
  if (PQstatus(raw) != CONNECTION_OK) {
    return Fail(ErrorCode::kUnavailable, "postgres: " + Trimmed(PQerrorMessage(raw)));
  }
  // NOTICEs ("relation already exists, skipping") would go to stderr, outside the JSON log.
  PQsetNoticeProcessor(
      raw, [](void*, const char*) {}, nullptr);
  return conn;
}

bool PgConnection::WaitSocket(short events, SteadyTime deadline) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline != SteadyTime::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return false;
      }
      timeout_ms = static_cast<int>(std::min<std::int64_t>(left.count() + 1, 1 << 30));
    }
    pollfd pfd{PQsocket(conn_.get()), events, 0};
    int n = ::poll(&pfd, 1, timeout_ms);
    if (n > 0) {
      return true;  // ready, or an error libpq will report
    }
    if (n < 0 && errno != EINTR) {
      return true;  // let libpq find out what is wrong with the socket
    }
  }
}

Result<PgResult> PgConnection::Await(const char* what) {
  SteadyTime deadline = DeadlineAfter(statement_timeout_);
  auto timed_out = [&]() -> Result<PgResult> {
    timed_out_ = true;  // the answer may still come: this connection is done
    return Fail(ErrorCode::kDeadlineExceeded,
                std::string("postgres ") + what + ": no answer within " +
                    std::to_string(statement_timeout_.count()) + " ms");
  };
  // Send what libpq still holds, then read until every result is in.
  for (int flushed = PQflush(conn_.get()); flushed != 0; flushed = PQflush(conn_.get())) {
    if (flushed < 0 || !WaitSocket(POLLOUT, deadline)) {
      return flushed < 0 ? Check(nullptr, what) : timed_out();
    }
  }
  std::optional<Result<PgResult>> first_error;
  std::optional<PgResult> last;
  for (;;) {
    while (PQisBusy(conn_.get()) != 0) {
      if (!WaitSocket(POLLIN, deadline)) {
        return timed_out();
      }
      if (PQconsumeInput(conn_.get()) == 0) {
        return Check(nullptr, what);
      }
    }
    PGresult* r = PQgetResult(conn_.get());
    if (r == nullptr) {
      break;
    }
    auto checked = Check(r, what);
    if (!checked && !first_error) {
      first_error = std::move(checked);
    } else if (checked) {
      last.emplace(std::move(*checked));
    }
  }
  if (first_error) {
    return std::move(*first_error);
  }
  if (!last) {
    return Check(nullptr, what);
  }
  return std::move(*last);
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
    if (PQsendPrepare(conn_.get(), stmt.name, stmt.sql, 0, nullptr) == 0) {
      return Check(nullptr, stmt.name);
    }
    auto prepared = Await(stmt.name);
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
  if (PQsendQueryPrepared(conn_.get(), stmt.name, static_cast<int>(values.size()), values.data(),
                          lengths.data(), nullptr, 0) == 0) {
    return Check(nullptr, stmt.name);
  }
  return Await(stmt.name);
}

Result<PgResult> PgConnection::Exec(const std::string& sql) {
  if (PQsendQuery(conn_.get(), sql.c_str()) == 0) {
    return Check(nullptr, "exec");
  }
  return Await("exec");
}

}  // namespace vendo::store
