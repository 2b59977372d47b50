// The name of a rendered session policy: its hex SHA-256, as the audit log records it and the
// credential cache keys on it.
#pragma once

#include <string>
#include <string_view>

namespace vendo::policy {

std::string PolicyHash(std::string_view rendered);

}  // namespace vendo::policy
