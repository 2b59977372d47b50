#include "protocol/form.h"

#include "common/encoding.h"

namespace vendo::protocol {

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
  std::size_t room = kMaxParams - items_.size();
  return VisitQueryPairs(encoded, room, [this](std::string_view key, std::string_view value) {
    Item item{};
    item.key_at = decoded_.size();
    bool ok = AppendPercentDecoded(key, decoded_, /*plus_is_space=*/true);
    item.key_size = decoded_.size() - item.key_at;
    item.value_at = decoded_.size();
    ok = ok && AppendPercentDecoded(value, decoded_, /*plus_is_space=*/true);
    item.value_size = decoded_.size() - item.value_at;
    items_.push_back(item);
    return ok;
  });
}

Result<Params> Params::Parse(std::string_view query, std::string_view body,
                             std::string_view content_type) {
  Params p;
  p.items_.reserve(4);                             // the 2012 requests carry 2-4 parameters
  p.decoded_.reserve(query.size() + body.size());  // decoding never grows
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
  std::string_view all = decoded_;
  for (const Item& item : items_) {
    if (all.substr(item.key_at, item.key_size) == name) {
      return all.substr(item.value_at, item.value_size);
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

}  // namespace vendo::protocol
