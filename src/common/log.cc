#include "common/log.h"

#include "common/encoding.h"

#include <fmt/format.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <ctime>
#include <mutex>

#include "common/striped.h"

namespace vendo {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

// Appends lines to a 64 KiB buffer per thread stripe (common/striped.h), and writes a buffer
// to stderr when it is full, on flush (every second and on warnings) and at shutdown. A
// request never waits for a write of its own line, and the network threads never contend for
// one buffer's lock. Writes are whole lines, one writer at a time, so lines never tear (not
// even in a pipe); lines of different threads may be up to a second out of order.
class BufferedStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  static constexpr std::size_t kCapacity = std::size_t{64} * 1024;
  ~BufferedStderrSink() override { WriteAll(); }

  // Appends one finished line (no newline): the path every LogLine takes, skipping spdlog's
  // per-message record (its clock read and level dispatch). spdlog still owns the sink: its
  // periodic flusher and shutdown write the buffers out.
  void AppendLine(std::string_view line, bool flush_now) {
    buffers_.Update([&](std::string& buffer) {
      if (buffer.size() + line.size() + 1 > kCapacity) {
        WriteOut(buffer);
      }
      if (buffer.capacity() < kCapacity) {
        buffer.reserve(kCapacity);
      }
      buffer.append(line);
      buffer.push_back('\n');
    });
    if (flush_now) {
      WriteAll();
    }
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    AppendLine(std::string_view(msg.payload.data(), msg.payload.size()), false);
  }
  void flush_() override { WriteAll(); }

 private:
  void WriteAll() {
    buffers_.ForEachMutable([this](std::string& buffer) { WriteOut(buffer); });
  }

  void WriteOut(std::string& buffer) {
    std::lock_guard lock(write_mu_);
    std::size_t off = 0;
    while (off < buffer.size()) {
      ssize_t n = ::write(STDERR_FILENO, buffer.data() + off, buffer.size() - off);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) {
          continue;
        }
        break;  // stderr is gone; drop the lines rather than stall the server
      }
      off += static_cast<std::size_t>(n);
    }
    buffer.clear();
  }

  Striped<std::string> buffers_;
  std::mutex write_mu_;  // one write(2) at a time
};

// The buffered sink while InitLogging is in force (kept alive by the logger that owns it).
std::atomic<BufferedStderrSink*> g_buffered_sink{nullptr};

std::shared_ptr<spdlog::logger> MakeSyncLogger() {
  auto logger = std::make_shared<spdlog::logger>("vendo-sync",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");
  return logger;
}

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger = MakeSyncLogger();
  return logger;
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// "2026-11-24T05:11:38." for the current second, formatted once per second per thread.
std::string_view SecondPrefix(std::chrono::system_clock::time_point now) {
  thread_local std::int64_t cached_second = -1;
  thread_local char text[32];
  auto secs = std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count();
  if (secs != cached_second) {
    auto t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.", &tm);
    cached_second = secs;
  }
  return text;
}

}  // namespace

void InitLogging(LogLevel min_level) {
  g_min_level.store(static_cast<int>(min_level));
  auto sink = std::make_shared<BufferedStderrSink>();
  auto logger = std::make_shared<spdlog::logger>("vendo", sink);
  logger->set_pattern("%v");
  logger->flush_on(spdlog::level::warn);
  Logger() = logger;
  spdlog::register_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
  g_buffered_sink.store(sink.get());
}

void ShutdownLogging() {
  g_buffered_sink.store(nullptr);
  Logger()->flush();
  Logger() = MakeSyncLogger();
  spdlog::shutdown();
}

void FlushLogs() { Logger()->flush(); }  // the sink's flush takes its lock and writes out

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_min_level.load(); }

void AppendJsonEscaped(std::string& out, std::string_view s) {
  // Control characters, '"', '\\' and DEL need escaping; bytes that are not part of a valid
  // UTF-8 sequence become U+FFFD, so a line stays valid JSON whatever a client sent (a raw
  // byte would make the whole line unparseable); everything else is copied in runs.
  static constexpr auto kEscape = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) {
      t[c] = true;
    }
    t['"'] = t['\\'] = t[0x7f] = true;
    return t;
  }();
  std::size_t run = 0;  // start of the current run of characters that need no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      char32_t cp = 0;
      if (std::size_t n = DecodeUtf8(s, i, cp); n != 0) {
        i += n - 1;
        continue;
      }
      out.append(s.data() + run, i - run);
      run = i + 1;
      out += "\\ufffd";
      continue;
    }
    if (!kEscape[c]) {
      continue;
    }
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    }
  }
  out.append(s.data() + run, s.size() - run);
}

void AppendUtcMillis(std::string& out, std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
  int millis = static_cast<int>(((ms % 1000) + 1000) % 1000);  // before 1970 too
  out += SecondPrefix(t);
  char frac[4] = {static_cast<char>('0' + millis / 100), static_cast<char>('0' + millis / 10 % 10),
                  static_cast<char>('0' + millis % 10), 'Z'};
  out.append(frac, sizeof frac);
}

// The buffer of this thread's last finished line, kept for its next one: a busy thread
// formats its access log lines without allocating.
thread_local std::string t_spare_line;

LogLine::LogLine(LogLevel level, std::string_view msg) : level_(level) {
  auto now = std::chrono::system_clock::now();
  buf_.swap(t_spare_line);
  buf_.clear();
  buf_.reserve(256);
  buf_ += R"({"ts":")";
  AppendUtcMillis(buf_, now);
  buf_ += R"(","level":")";
  buf_ += LevelName(level);
  buf_ += R"(","msg":")";
  AppendJsonEscaped(buf_, msg);
  buf_ += '"';
}

void LogLine::Key(std::string_view key) {
  buf_ += ",\"";
  AppendJsonEscaped(buf_, key);
  buf_ += "\":";
}

LogLine& LogLine::Str(std::string_view key, std::string_view value) {
  Key(key);
  buf_ += '"';
  AppendJsonEscaped(buf_, value);
  buf_ += '"';
  return *this;
}

LogLine& LogLine::Int(std::string_view key, std::int64_t value) {
  Key(key);
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  buf_.append(digits, end);
  return *this;
}

LogLine& LogLine::Num(std::string_view key, double value) {
  Key(key);
  char digits[64];
  auto [end, ec] =
      std::to_chars(digits, digits + sizeof digits, value, std::chars_format::fixed, 3);
  buf_.append(digits, ec == std::errc() ? end : digits);
  return *this;
}

LogLine& LogLine::Millis(std::string_view key, std::int64_t micros) {
  Key(key);
  if (micros < 0) {
    buf_ += '-';
    micros = -micros;
  }
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, micros / 1000);
  buf_.append(digits, end);
  int frac = static_cast<int>(micros % 1000);
  buf_ += '.';
  buf_.push_back(static_cast<char>('0' + frac / 100));
  buf_.push_back(static_cast<char>('0' + frac / 10 % 10));
  buf_.push_back(static_cast<char>('0' + frac % 10));
  return *this;
}

LogLine& LogLine::Bool(std::string_view key, bool value) {
  Key(key);
  buf_ += value ? "true" : "false";
  return *this;
}

LogLine::~LogLine() {
  if (buf_.capacity() > t_spare_line.capacity()) {
    buf_.clear();
    buf_.swap(t_spare_line);
  }
}

void LogLine::Emit() {
  if (!LogEnabled(level_)) {
    return;
  }
  buf_ += '}';
  if (BufferedStderrSink* sink = g_buffered_sink.load()) {
    sink->AppendLine(buf_, level_ >= LogLevel::kWarn);
    return;
  }
  Logger()->info(buf_);
}

}  // namespace vendo
