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

namespace {

// application/x-www-form-urlencoded decoding, as a servlet container does it: '+' is a space,
// %XX is a byte, and a '%' not followed by two hex digits is an error.
bool FormDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    std::size_t run = i;  // copy plain characters in one go
    while (run < in.size() && in[run] != '%' && in[run] != '+') {
      ++run;
    }
    out.append(in.data() + i, run - i);
    if (run == in.size()) {
      break;
    }
    i = run;
    if (in[i] == '+') {
      out.push_back(' ');
    } else {
      int hi = i + 2 < in.size() ? HexDigitValue(in[i + 1]) : -1;
      int lo = hi >= 0 ? HexDigitValue(in[i + 2]) : -1;
      if (lo < 0) {
        return false;
      }
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    }
  }
  return true;
}

}  // namespace

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
    if (!FormDecode(pair.substr(0, eq), key) ||
        !FormDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                    value)) {
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
