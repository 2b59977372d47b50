#include "store/location.h"

#include <boost/url/parse.hpp>

namespace vendo::store {

Result<StoreLocation> ParseStoreUrl(std::string_view url) {
  StoreLocation loc;
  if (url.starts_with("sqlite://")) {
    loc.sqlite_path = std::string(url.substr(9));
    if (loc.sqlite_path.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "sqlite:// needs a file path: sqlite:///var/lib/vendo/vendo.db");
    }
    return loc;
  }
  if (!url.starts_with("postgres://") && !url.starts_with("postgresql://")) {
    return Fail(
        ErrorCode::kInvalidArgument,
        "a store URL starts with sqlite:// or postgres:// (got \"" + std::string(url) + "\")");
  }
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return Fail(ErrorCode::kInvalidArgument, "not a valid postgres:// URL");
  }
  if (parsed->has_password()) {
    // Deliberately not echoing the URL: it holds the password.
    return Fail(ErrorCode::kInvalidArgument,
                "the postgres:// URL holds a password; put it in a password file "
                "(store.password_file, --password-file) or PGPASSWORD instead");
  }
  if (parsed->host().empty()) {
    return Fail(ErrorCode::kInvalidArgument, "the postgres:// URL has no host");
  }
  loc.kind = StoreLocation::Kind::kPostgres;
  loc.postgres_url = std::string(url);
  return loc;
}

}  // namespace vendo::store
