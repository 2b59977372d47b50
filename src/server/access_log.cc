#include "server/access_log.h"

#include "common/log.h"

namespace vendo::server {

void AccessLog(std::string_view request_id, std::string_view method, std::string_view path,
               int status, std::chrono::steady_clock::time_point started, std::size_t bytes,
               std::string_view app, std::string_view remote) {
  if (!LogEnabled(LogLevel::kInfo)) {
    return;
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  LogLine line(LogLevel::kInfo, "request");
  line.Str("request_id", request_id).Str("method", method).Str("path", path).Int("status", status);
  line.Num("latency_ms", ms).Int("bytes", static_cast<std::int64_t>(bytes));
  if (!app.empty()) {
    line.Str("app", app);
  }
  line.Str("remote", remote).Emit();
}

}  // namespace vendo::server
