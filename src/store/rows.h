// Raw rows, with secrets still sealed, for moving data between stores (`vendo store copy`).
// Both stores seal with the same contexts (app and uid, app and user id), so rows copied
// verbatim open under the same master key on the other side.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vendo/result.h"

namespace vendo::store {

struct DeviceRow {
  std::string app;
  std::string uid;
  std::string key_sealed;
  std::optional<std::string> user_id;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> revoked_at;
  std::optional<std::string> claims_sealed;
  friend bool operator==(const DeviceRow&, const DeviceRow&) = default;
};

struct UserRow {
  std::string app;
  std::string username;
  std::string user_id;
  std::string password_sealed;
  bool enabled = true;
  std::int64_t created_at = 0;
  friend bool operator==(const UserRow&, const UserRow&) = default;
};

// A position in bytewise (app, key) order; {"", ""} is before everything.
using RowKey = std::pair<std::string, std::string>;

class RowAccess {
 public:
  virtual ~RowAccess() = default;
  // Up to `limit` rows after `after`, in bytewise (app, uid) / (app, username) order.
  [[nodiscard]] virtual Result<std::vector<DeviceRow>> DevicesAfter(const RowKey& after,
                                                                    std::size_t limit) = 0;
  [[nodiscard]] virtual Result<std::vector<UserRow>> UsersAfter(const RowKey& after,
                                                                std::size_t limit) = 0;
  // Up to `limit` devices bound to one user, with uid after `after_uid`, in uid order (by the
  // devices_by_user index: no scan of the app's other devices).
  [[nodiscard]] virtual Result<std::vector<DeviceRow>> UserDevicesAfter(std::string_view app,
                                                                        std::string_view user_id,
                                                                        std::string_view after_uid,
                                                                        std::size_t limit) = 0;
  // Inserts the rows whose key is not taken yet, in one transaction; returns how many.
  [[nodiscard]] virtual Result<std::int64_t> InsertDevices(std::span<const DeviceRow> rows) = 0;
  [[nodiscard]] virtual Result<std::int64_t> InsertUsers(std::span<const UserRow> rows) = 0;
};

}  // namespace vendo::store
