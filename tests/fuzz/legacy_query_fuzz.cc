// The 2012 request parameters: query string plus form body, as any client may send them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/form.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // First line: the query; the rest: a form body.
  auto nl = in.find('\n');
  std::string_view query = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  auto params = vendo::protocol::Params::Parse(query, body, "application/x-www-form-urlencoded");
  if (params) {
    for (const char* name : {"uid", "key", "timestamp", "signature", "username", "password"}) {
      (void)params->Get(name);
      (void)params->Required(name);
    }
  }
  return 0;
}
