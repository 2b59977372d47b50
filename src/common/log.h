// Structured logging: one JSON object per line on stderr.
//
// Log lines go into 64 KiB buffers (one per thread stripe) written to stderr when full, every
// second, on warnings and at shutdown: a request never makes a write of its own. Call sites
// build a line with typed fields:
//
//   LogLine(LogLevel::kInfo, "request").Str("method", "GET").Int("status", 200).Emit();
//
// Never pass a key, signature, password, session token or query string to a log line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace vendo {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Switches to the buffered stderr logger. Call once from main; lines logged before then
// (and in tests) are written line by line.
void InitLogging(LogLevel min_level);
// Flushes the buffer and stops the flusher. Call before exit.
void ShutdownLogging();
bool LogEnabled(LogLevel level);
// Writes out buffered lines now (after start-up lines that other programs wait for).
void FlushLogs();

class LogLine {
 public:
  LogLine(LogLevel level, std::string_view msg);
  ~LogLine();  // hands the buffer back for the thread's next line
  LogLine(LogLine&&) = default;
  LogLine& operator=(LogLine&&) = default;
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  LogLine& Str(std::string_view key, std::string_view value);
  LogLine& Int(std::string_view key, std::int64_t value);
  LogLine& Num(std::string_view key, double value);
  // `micros` microseconds written as milliseconds with three decimals ("1.234").
  LogLine& Millis(std::string_view key, std::int64_t micros);
  LogLine& Bool(std::string_view key, bool value);
  // The line as it would be written (without the newline).
  std::string Json() const { return buf_ + '}'; }
  void Emit();

 private:
  void Key(std::string_view key);
  LogLevel level_;
  std::string buf_;
};

// Appends `s` to `out` as the inside of a JSON string (quotes not included).
void AppendJsonEscaped(std::string& out, std::string_view s);

// Appends "2026-11-24T05:11:38.123Z" (UTC, milliseconds). The date and time up to the second
// are formatted once per second per thread: log and audit lines pay for the milliseconds only.
void AppendUtcMillis(std::string& out, std::chrono::system_clock::time_point t);

}  // namespace vendo
