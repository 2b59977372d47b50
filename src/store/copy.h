// Copies every device and user from one store to another and verifies the result: the
// target's rows must then equal the source's (counts, and a SHA-256 over every row in key
// order). Rows already in the target are left alone, so a copy interrupted half-way can be
// run again; a target row that differs from the source's makes the verification fail.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "store/rows.h"

namespace vendo::store {

struct TableDigest {
  std::int64_t rows = 0;
  std::string sha256;  // hex
  friend bool operator==(const TableDigest&, const TableDigest&) = default;
};

struct CopyReport {
  std::int64_t devices_copied = 0;  // new in the target
  std::int64_t users_copied = 0;
  TableDigest source_devices, target_devices, source_users, target_users;
  bool verified() const { return source_devices == target_devices && source_users == target_users; }
};

// Told what the copy is doing ("copying users", "copying devices", "verifying source
// devices", ...) and how many rows that step has done so far: after every batch, and once
// when the step ends (`done`).
using CopyProgress = std::function<void(std::string_view step, std::int64_t rows, bool done)>;

[[nodiscard]] Result<CopyReport> CopyRows(RowAccess& from, RowAccess& to, std::size_t batch = 1000,
                                          const CopyProgress& progress = {});

[[nodiscard]] Result<TableDigest> DigestDevices(RowAccess& store, std::size_t batch = 1000);
[[nodiscard]] Result<TableDigest> DigestUsers(RowAccess& store, std::size_t batch = 1000);

}  // namespace vendo::store
