// RecordingAuditSink: remembers every audit line written, and fails every write while `fail`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vending/audit.h"

namespace vendo::testing {

class RecordingAuditSink final : public server::AuditSink {
 public:
  [[nodiscard]] Status Write(std::string_view line) override {
    if (fail) {
      return Fail(ErrorCode::kUnavailable, "disk full");
    }
    writes.emplace_back(line);
    return {};
  }
  std::vector<std::string> writes;
  bool fail = false;
};

}  // namespace vendo::testing
