// Policy templates (from operators) rendered with values (from devices and users).
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/template.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Before the first NUL: the template; after it: the caller's values.
  auto nul = in.find('\0');
  std::string_view text = in.substr(0, nul);
  std::string value = nul == std::string_view::npos ? "" : std::string(in.substr(nul + 1));
  auto tmpl = vendo::policy::Template::Parse(text);
  if (tmpl) {
    auto rendered = tmpl->Render(
        {value, value, value, value, value, value, value, {{"email", value}, {"sub", value}}});
    if (rendered) {
      // The promise: no value can change the policy's structure. A template that parsed as
      // JSON must render as JSON, whatever the values hold.
      boost::system::error_code ec;
      auto doc = boost::json::parse(*rendered, ec);
      if (ec || !doc.is_object()) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
