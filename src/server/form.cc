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
  return AppendQueryPairs(encoded, /*plus_is_space=*/true, kMaxParams, items_);
}

Result<Params> Params::Parse(std::string_view query, std::string_view body,
                             std::string_view content_type) {
  Params p;
  p.items_.reserve(4);  // the 2012 requests carry 2-4 parameters
  VENDO_RETURN_IF_ERROR(p.Add(query));
  if (content_type.empty()) {
    return p;
  }
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

std::optional<std::string_view> Params::Required(std::string_view name) const {
  auto v = Get(name);
  if (!v) {
    return std::nullopt;
  }
  std::string_view t = JavaTrim(*v);
  if (t.empty()) {
    return std::nullopt;
  }
  return t;
}

}  // namespace vendo::server
