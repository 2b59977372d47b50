#include "server/form.h"

#include "common/encoding.h"

namespace vendo::server {

std::string_view JavaTrim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= 0x20) {
    s.remove_prefix(1);
  }
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= 0x20) {
    s.remove_suffix(1);
  }
  return s;
}

Status Params::Add(std::string_view encoded) {
  while (!encoded.empty()) {
    std::size_t amp = encoded.find('&');
    std::string_view pair = encoded.substr(0, amp);
    encoded = amp == std::string_view::npos ? std::string_view() : encoded.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    if (items_.size() >= kMaxParams) {
      return Fail(ErrorCode::kInvalidArgument, "too many parameters");
    }
    std::size_t eq = pair.find('=');
    auto& [key, value] = items_.emplace_back();
    if (!PercentDecode(pair.substr(0, eq), key, true) ||
        !PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                       value, true)) {
      return Fail(ErrorCode::kInvalidArgument, "malformed query or form encoding");
    }
  }
  return {};
}

Result<Params> Params::Parse(std::string_view query, std::string_view body,
                             std::string_view content_type) {
  Params p;
  VENDO_RETURN_IF_ERROR(p.Add(query));
  std::string type = AsciiLower(content_type.substr(0, content_type.find(';')));
  if (JavaTrim(type) == "application/x-www-form-urlencoded") {
    VENDO_RETURN_IF_ERROR(p.Add(body));
  }
  return p;
}

std::optional<std::string_view> Params::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (k == name) {
      return v;
    }
  }
  return std::nullopt;
}

std::optional<std::string> Params::Required(std::string_view name) const {
  auto v = Get(name);
  if (!v) {
    return std::nullopt;
  }
  std::string_view t = JavaTrim(*v);
  if (t.empty()) {
    return std::nullopt;
  }
  return std::string(t);
}

}  // namespace vendo::server
