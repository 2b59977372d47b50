// Undo: takes back a store change that must not stand, such as one the audit log could not
// record (see Router::AuditChange). Empty when there is nothing to take back.
#pragma once

#include <functional>

#include "vendo/result.h"

namespace vendo::server {

using Undo = std::function<Status()>;

}  // namespace vendo::server
