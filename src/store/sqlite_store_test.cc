#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/fixed_clock.h"
#include "testing/temp_dir.h"

namespace vendo::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void TearDown() override { store_.reset(); }
  void Reopen(std::size_t max_batch = 256) {
    store_.reset();
    auto s = SqliteStore::Open({dir_.File("vendo.db"), max_batch}, box_, clock_);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    store_ = std::move(*s);
  }
  std::string FileBytes() {
    std::string all;
    for (auto& f : std::filesystem::directory_iterator(dir_.path())) {
      std::ifstream in(f.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }

  testing::TempDir dir_;
  OsRandom random_;
  FixedClock clock_{std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000))};
  crypto::SecretBox box_{SecretString(std::string(32, 'm')), random_};
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, SecretsAreNotStoredInClear) {
  ASSERT_TRUE(
      store_->CreateDevice("app", "uid-a", SecretString("deadbeefdeadbeef0011223344556677")));
  ASSERT_TRUE(store_->CreateUser("app", "alice", "u1",
                                 SecretString("865117dbfaf09cd410aae028844adfdf5d2d0400")));
  store_.reset();  // checkpoint and close
  std::string bytes = FileBytes();
  EXPECT_NE(bytes.find("uid-a"), std::string::npos);  // sanity: we read the database
  EXPECT_EQ(bytes.find("deadbeefdeadbeef"), std::string::npos);
  EXPECT_EQ(bytes.find("865117dbfaf09cd4"), std::string::npos);
}

// The behaviour every store shares is tested in tests/store/conformance_test.cc; here, what
// is SQLite's own: the file, and group commit's batch setting.
TEST_F(SqliteStoreTest, ReopenWithAnotherBatchSizeKeepsDataAndMigratesOnce) {
  ASSERT_TRUE(store_->CreateDevice("app", "uid-z", SecretString(std::string(32, 'c'))));
  Reopen(1);
  Reopen(8);
  EXPECT_TRUE(store_->FindDevice("app", "uid-z").has_value());
  // Three opens, and each migration is recorded once: a reopen runs none again.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(dir_.File("vendo.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*), MAX(version) FROM schema_migrations", -1,
                               &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), SqliteStore::LatestSchemaVersion());
  EXPECT_EQ(sqlite3_column_int(stmt, 1), SqliteStore::LatestSchemaVersion());
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace vendo::store
