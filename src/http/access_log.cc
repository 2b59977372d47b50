#include "http/access_log.h"

#include "common/log.h"

namespace vendo::server {

void AccessLog(std::string_view request_id, std::string_view method, std::string_view path,
               int status, std::chrono::steady_clock::duration latency, std::size_t bytes,
               std::string_view app, std::string_view remote) {
  if (!LogEnabled(LogLevel::kInfo)) {
    return;
  }
  LogLine line(LogLevel::kInfo, "request");
  line.Str("request_id", request_id).Str("method", method).Str("path", path).Int("status", status);
  line.Millis("latency_ms", std::chrono::duration_cast<std::chrono::microseconds>(latency).count())
      .Int("bytes", static_cast<std::int64_t>(bytes));
  if (!app.empty()) {
    line.Str("app", app);
  }
  line.Str("remote", remote).Emit();
}

}  // namespace vendo::server
