#include "metrics/metrics.h"

#include <array>

namespace vendo::metrics {

std::string_view EndpointOf(std::string_view path) {
  static constexpr std::array<std::string_view, 7> kLegacy = {
      "registerdevice", "gettoken", "login", "registeruser", "register.jsp", "", "/"};
  static constexpr std::array<std::string_view, 7> kV2 = {
      "devices", "users", "login", "token", "register", "devices/self", "devices/self/rotate"};
  static constexpr std::array<std::string_view, 7> kV2Labels = {"v2/devices",
                                                                "v2/users",
                                                                "v2/login",
                                                                "v2/token",
                                                                "v2/register",
                                                                "v2/devices/self",
                                                                "v2/devices/self/rotate"};
  if (path.empty()) {
    return "other";
  }
  if (path == "/healthz") {
    return "healthz";
  }
  if (path == "/readyz") {
    return "readyz";
  }
  auto after_app = [](std::string_view p, std::string_view prefix) -> std::string_view {
    p.remove_prefix(prefix.size());
    auto slash = p.find('/');
    return slash == std::string_view::npos ? std::string_view() : p.substr(slash + 1);
  };
  if (path.starts_with("/v2/apps/")) {
    std::string_view rest = after_app(path, "/v2/apps/");
    for (std::size_t i = 0; i < kV2.size(); ++i) {
      if (rest == kV2[i]) {
        return kV2Labels[i];
      }
    }
    return "other";
  }
  std::string_view rest = path.starts_with("/apps/") ? after_app(path, "/apps/") : path.substr(1);
  for (std::string_view e : kLegacy) {
    if (rest == e) {
      return e.empty() || e == "/" ? "home" : e;
    }
  }
  return "other";
}

}  // namespace vendo::metrics
