#include "store/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vendo::store {

Error SqliteError(int rc, std::string_view what) {
  int primary = rc & 0xff;
  bool transient = primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
                   primary == SQLITE_FULL || primary == SQLITE_CANTOPEN;
  return Error{transient ? ErrorCode::kUnavailable : ErrorCode::kInternal,
               std::string(what) + ": " + sqlite3_errstr(rc)};
}

Statement& Statement::Bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

Statement& Statement::Bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) {
    bind_error_ = rc;
  }
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return std::unexpected(SqliteError(bind_error_, "bind"));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return std::unexpected(SqliteError(rc, "step"));
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

std::string Statement::Text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p),
                                    static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> Statement::OptionalText(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) {
    return std::nullopt;
  }
  return Text(column);
}

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

namespace {

// The database holds sealed secrets and who is registered: it, its WAL and its shared-memory
// file are the owner's alone, whatever the umask. SQLite gives the WAL and -shm files the mode
// of the database file, so creating that file 0600 first (in a 0700 folder when the folder is
// new) is enough; an existing file that others may read is tightened.
Status CreatePrivately(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    return {};
  }
  std::filesystem::path file(path);
  std::error_code ec;
  if (file.has_parent_path() && !std::filesystem::exists(file.parent_path(), ec)) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) {
      return Fail(ErrorCode::kInternal,
                  "cannot create " + file.parent_path().string() + ": " + ec.message());
    }
    ::chmod(file.parent_path().c_str(), 0700);
  }
  // Never open() and close() a database file that exists: closing any descriptor of a file
  // drops every POSIX lock this process holds on it, including SQLite's own.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
      return Fail(ErrorCode::kInternal,
                  "cannot create database file " + path + ": " + std::strerror(errno));
    }
    if (fd >= 0) {
      ::close(fd);  // new and empty: no connection of ours holds a lock on it yet
    }
  } else if ((st.st_mode & 0077) != 0) {
    ::chmod(path.c_str(), 0600);
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    ::chmod((path + suffix).c_str(), 0600);  // left by an earlier run, if any
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path) {
  VENDO_RETURN_IF_ERROR(CreatePrivately(path));
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return std::unexpected(SqliteError(rc, "open database file " + path));
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_busy_timeout(db, 5000);
  // WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL at every commit,
  // so an acknowledged write survives a crash.
  VENDO_RETURN_IF_ERROR(
      conn->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return conn;
}

Connection::~Connection() {
  cache_.clear();
  sqlite3_close(db_);
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Error e = SqliteError(rc, "exec");
    e.message += " (" + msg + ")";
    return std::unexpected(e);
  }
  return {};
}

Result<Statement*> Connection::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return std::unexpected(SqliteError(rc, std::string("prepare: ") + sqlite3_errmsg(db_)));
  }
  auto [pos, _] = cache_.emplace(sql, std::make_unique<Statement>(stmt));
  return pos->second.get();
}

Status StepToEnd(Statement* stmt) {
  auto r = stmt->Step();
  if (!r) {
    return std::unexpected(r.error());
  }
  return {};
}

}  // namespace vendo::store
