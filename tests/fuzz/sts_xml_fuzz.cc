// STS answers, from AWS or an STS-compatible server (or a man in the middle).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sts/sts_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)vendo::sts::ParseCredentialsResponse(in);
  (void)vendo::sts::ParseErrorResponse(size > 0 ? 400 + data[0] % 200 : 500, in);
  (void)vendo::sts::ParseIsoTimestamp(in.substr(0, 64));
  return 0;
}
