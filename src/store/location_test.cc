#include "store/location.h"

#include <gtest/gtest.h>

namespace vendo::store {
namespace {

TEST(ParseStoreUrl, Sqlite) {
  auto loc = ParseStoreUrl("sqlite:///var/lib/vendo/vendo.db");
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->kind, StoreLocation::Kind::kSqlite);
  EXPECT_EQ(loc->sqlite_path, "/var/lib/vendo/vendo.db");
  EXPECT_EQ(ParseStoreUrl("sqlite://var/x.db")->sqlite_path, "var/x.db");
  EXPECT_FALSE(ParseStoreUrl("sqlite://"));
}

TEST(ParseStoreUrl, Postgres) {
  auto loc = ParseStoreUrl("postgres://vendo@db.internal:5432/vendo?sslmode=require");
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->kind, StoreLocation::Kind::kPostgres);
  EXPECT_EQ(loc->Display(), "postgres://vendo@db.internal:5432/vendo?sslmode=require");
  EXPECT_TRUE(ParseStoreUrl("postgresql://vendo@127.0.0.1/vendo"));
}

TEST(ParseStoreUrl, RefusesPasswordsInTheUrlWithoutEchoingThem) {
  auto loc = ParseStoreUrl("postgres://vendo:hunter2@db/vendo");
  ASSERT_FALSE(loc);
  EXPECT_NE(loc.error().message.find("password file"), std::string::npos);
  EXPECT_EQ(loc.error().message.find("hunter2"), std::string::npos);
}

TEST(ParseStoreUrl, RefusesOtherSchemes) {
  EXPECT_FALSE(ParseStoreUrl("mysql://db/vendo"));
  EXPECT_FALSE(ParseStoreUrl("/var/lib/vendo.db"));
}

}  // namespace
}  // namespace vendo::store
