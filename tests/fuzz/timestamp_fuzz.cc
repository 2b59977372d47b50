// The two 2012 timestamp forms, and whatever else a client sends as one.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/timestamp.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto t = vendo::protocol::ParseLegacyTimestamp(in);
  if (t) {
    (void)vendo::protocol::WithinWindow(*t, *t, std::chrono::seconds(900));
  }
  return 0;
}
