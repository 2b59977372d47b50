#include "common/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace vendo {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};

std::shared_ptr<spdlog::logger> MakeSyncLogger() {
  auto logger = std::make_shared<spdlog::logger>(
      "vendo-sync", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");
  return logger;
}

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger = MakeSyncLogger();
  return logger;
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace

void InitLogging(LogLevel min_level) {
  g_min_level.store(static_cast<int>(min_level));
  spdlog::init_thread_pool(1 << 16, 1);
  auto logger = std::make_shared<spdlog::async_logger>(
      "vendo", std::make_shared<spdlog::sinks::stderr_sink_mt>(), spdlog::thread_pool(),
      spdlog::async_overflow_policy::overrun_oldest);
  logger->set_pattern("%v");
  logger->flush_on(spdlog::level::warn);
  Logger() = logger;
}

void ShutdownLogging() {
  Logger()->flush();
  Logger() = MakeSyncLogger();
  spdlog::shutdown();
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_min_level.load(); }

void AppendJsonEscaped(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
}

LogLine::LogLine(LogLevel level, std::string_view msg) : level_(level) {
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now());
  buf_.reserve(256);
  fmt::format_to(std::back_inserter(buf_), R"({{"ts":"{:%FT%T}Z","level":"{}","msg":")", now,
                 LevelName(level));
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
  fmt::format_to(std::back_inserter(buf_), "{}", value);
  return *this;
}

LogLine& LogLine::Num(std::string_view key, double value) {
  Key(key);
  fmt::format_to(std::back_inserter(buf_), "{:.3f}", value);
  return *this;
}

LogLine& LogLine::Bool(std::string_view key, bool value) {
  Key(key);
  buf_ += value ? "true" : "false";
  return *this;
}

void LogLine::Emit() {
  if (!LogEnabled(level_)) {
    return;
  }
  buf_ += '}';
  Logger()->info(buf_);
}

}  // namespace vendo
