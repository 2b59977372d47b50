#include "server/form.h"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/params_view.hpp>
#include <boost/url/parse_query.hpp>

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
  if (encoded.empty()) {
    return {};
  }
  auto parsed = boost::urls::parse_query(encoded);
  if (!parsed) {
    return Fail(ErrorCode::kInvalidArgument, "malformed query or form encoding");
  }
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  boost::urls::params_view params(*parsed, opts);
  for (auto param : params) {
    if (items_.size() >= kMaxParams) {
      return Fail(ErrorCode::kInvalidArgument, "too many parameters");
    }
    items_.emplace_back(std::move(param.key), std::move(param.value));
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
