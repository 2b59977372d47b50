#include "vending/audit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>

#include "common/encoding.h"
#include "common/log.h"

namespace vendo::server {
namespace {

// Writes all of `line` to `fd`, or fails with errno's message.
Status WriteAll(int fd, std::string_view line, const std::string& what) {
  while (!line.empty()) {
    ssize_t n = ::write(fd, line.data(), line.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Fail(ErrorCode::kUnavailable, "audit log " + what + ": " + std::strerror(errno));
    }
    line.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Writes whole lines only. A write to a regular file that fails part way (ENOSPC after a
// short write) is cut back to where it began, so the file never holds half a line for the
// next one to be glued to; if even that fails, nothing more is written until it succeeds.
class FdSink final : public AuditSink {
 public:
  FdSink(int fd, std::string name, bool owned) : fd_(fd), name_(std::move(name)), owned_(owned) {
    struct stat st {};
    regular_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  }
  ~FdSink() override {
    if (owned_) {
      ::close(fd_);
    }
  }
  Status Write(std::string_view line) override {
    std::lock_guard lock(mu_);
    if (!regular_) {
      return WriteAll(fd_, line, name_);
    }
    if (cut_to_ >= 0) {  // a half line is still there from the last failure
      if (::ftruncate(fd_, cut_to_) != 0) {
        return Fail(
            ErrorCode::kUnavailable,
            "audit log " + name_ + ": cannot remove a partial line: " + std::strerror(errno));
      }
      cut_to_ = -1;
    }
    struct stat st {};
    off_t start = ::fstat(fd_, &st) == 0 ? st.st_size : -1;
    auto written = WriteAll(fd_, line, name_);
    if (!written && start >= 0) {
      cut_to_ = start;
      if (::ftruncate(fd_, start) == 0) {
        cut_to_ = -1;
      }
    }
    return written;
  }

 private:
  int fd_;
  std::string name_;
  bool owned_;
  bool regular_ = false;
  std::mutex mu_;
  off_t cut_to_ = -1;  // where the file must be cut back to before the next write
};

void Field(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) {
    return;
  }
  out.append(",\"").append(key).append("\":\"");
  AppendJsonEscaped(out, value);
  out.push_back('"');
}

}  // namespace

Result<std::unique_ptr<AuditSink>> OpenAuditSink(const std::string& path) {
  if (path.empty()) {
    return std::unique_ptr<AuditSink>(new FdSink(STDERR_FILENO, "stderr", false));
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(ErrorCode::kInvalidArgument, "audit log " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AuditSink>(new FdSink(fd, path, true));
}

std::string AuditLog::Format(const AuditEvent& e) const {
  std::string out;
  out.reserve(384);  // a vend's line, without growing
  AppendLine(out, e);
  return out;
}

void AuditLog::AppendLine(std::string& out, const AuditEvent& e) const {
  out.append(R"({"ts":")");
  AppendUtcMillis(out, clock_.Now());
  out.append(R"(","audit":")");
  AppendJsonEscaped(out, e.action);
  out.push_back('"');
  Field(out, "outcome", e.outcome);
  Field(out, "app", e.app);
  Field(out, "device", e.device);
  Field(out, "user", e.user);
  Field(out, "client", e.client);
  Field(out, "issuer", e.issuer);
  Field(out, "policy_sha256", e.policy_sha256);
  if (e.duration_seconds > 0) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, e.duration_seconds).ptr;
    out.append(",\"duration_s\":").append(digits, end);
  }
  Field(out, "request_id", e.request_id);
  out.append("}\n");
}

AuditLog::Batch& AuditLog::ThreadBatch() {
  // One batch per (thread, log); a thread meets one or two logs, so a short list will do.
  thread_local std::vector<std::pair<const AuditLog*, std::unique_ptr<Batch>>> batches;
  for (auto& [log, batch] : batches) {
    if (log == this) {
      return *batch;
    }
  }
  return *batches.emplace_back(this, std::make_unique<Batch>()).second;
}

void AuditLog::RecordThen(const AuditEvent& event, TaskRunner* later, Done done) {
  if (later == nullptr) {
    done(Record(event));
    return;
  }
  Batch& batch = ThreadBatch();
  AppendLine(batch.lines, event);
  batch.waiters.push_back(std::move(done));
  if (batch.lines.size() >= kMaxBatchBytes) {
    Flush(batch);  // a Turn already posted will find it empty
  } else if (!batch.scheduled) {
    batch.scheduled = true;
    later->Post([this, &batch, later] { Turn(batch, later); });
  }
}

void AuditLog::Turn(Batch& batch, TaskRunner* later) {
  bool grew = batch.waiters.size() > batch.seen;
  if (!batch.waiters.empty() && grew && batch.turns < kMaxTurns) {
    batch.seen = batch.waiters.size();
    ++batch.turns;
    later->Post([this, &batch, later] { Turn(batch, later); });
    return;
  }
  batch.scheduled = false;
  batch.turns = 0;
  batch.seen = 0;
  Flush(batch);
}

void AuditLog::Flush(Batch& batch) {
  if (batch.waiters.empty()) {
    return;
  }
  std::string lines;
  std::vector<Done> waiters;
  batch.seen = 0;
  lines.swap(batch.lines);
  waiters.swap(batch.waiters);
  auto written = sink_.Write(lines);
  if (!written) {
    LogLine(LogLevel::kError, "audit log write failed")
        .Int("lines", static_cast<std::int64_t>(waiters.size()))
        .Str("error", written.error().message)
        .Emit();
  }
  for (auto& done : waiters) {
    done(written);
  }
  if (batch.waiters.empty()) {
    // Hand the buffers back, emptied: the next batch reuses them instead of growing new ones.
    lines.clear();
    waiters.clear();
    batch.lines.swap(lines);
    batch.waiters.swap(waiters);
  }
}

Status AuditLog::Record(const AuditEvent& event) {
  auto written = sink_.Write(Format(event));
  if (!written) {
    LogLine(LogLevel::kError, "audit log write failed")
        .Str("action", event.action)
        .Str("error", written.error().message)
        .Emit();
  }
  return written;
}

}  // namespace vendo::server
