// Where a store lives, as configured: "sqlite:///var/lib/vendo/vendo.db" or
// "postgres://vendo@db.internal:5432/vendo". Passwords never go in the URL (it is printed and
// may be typed on a command line): they come from a password file or PGPASSWORD.
#pragma once

#include <string>
#include <string_view>

#include "vendo/result.h"

namespace vendo::store {

struct StoreLocation {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::string sqlite_path;   // kSqlite
  std::string postgres_url;  // kPostgres: as given, without a password
  std::string Display() const {
    return kind == Kind::kSqlite ? "sqlite://" + sqlite_path : postgres_url;
  }
};

[[nodiscard]] Result<StoreLocation> ParseStoreUrl(std::string_view url);

}  // namespace vendo::store
