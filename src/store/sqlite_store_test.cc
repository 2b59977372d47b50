#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

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

TEST_F(SqliteStoreTest, DeviceRegistersOnceAndIsFound) {
  SecretString key("000102030405060708090a0b0c0d0e0f");
  ASSERT_TRUE(store_->CreateDevice("app", "uid-0000000000000000000000001", key).has_value());
  auto again = store_->CreateDevice("app", "uid-0000000000000000000000001", key);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  // Same uid in another app is a different device.
  EXPECT_TRUE(store_->CreateDevice("other", "uid-0000000000000000000000001", key).has_value());
  auto found = store_->FindDevice("app", "uid-0000000000000000000000001");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->key.Reveal(), key.Reveal());
  EXPECT_FALSE(found->user_id.has_value());
  EXPECT_EQ(store_->FindDevice("app", "nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(*store_->CountDevices("app"), 1);
  EXPECT_TRUE(store_->Ping().has_value());
}

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

TEST_F(SqliteStoreTest, ConcurrentRegistrationsAllCommitAndDuplicatesFailAlone) {
  constexpr int kThreads = 16, kPerThread = 40;
  std::atomic<int> ok{0}, dup{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread also races on one shared uid: exactly one may win it.
        std::string uid = i == 0 ? "shared-uid-000000000000000000"
                                 : "uid-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = store_->CreateDevice("app", uid, SecretString(std::string(32, 'a')));
        (r ? ok : dup)++;
        if (!r) {
          EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(dup.load(), kThreads - 1);
  EXPECT_EQ(ok.load(), kThreads * (kPerThread - 1) + 1);
  Reopen();
  EXPECT_EQ(*store_->CountDevices("app"), ok.load());
}

TEST_F(SqliteStoreTest, UsersAndDeviceBinding) {
  ASSERT_TRUE(store_->CreateUser("id", "alice", "u-alice", SecretString(std::string(64, 'a'))));
  ASSERT_TRUE(store_->CreateUser("id", "bob", "u-bob", SecretString(std::string(64, 'b'))));
  EXPECT_EQ(store_->CreateUser("id", "alice", "u-x", SecretString("x")).error().code,
            ErrorCode::kAlreadyExists);
  auto alice = store_->FindUser("id", "alice");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->password_hash.Reveal(), std::string(64, 'a'));
  EXPECT_EQ(store_->FindUserById("id", "u-bob")->username, "bob");

  ASSERT_TRUE(store_->BindDevice("id", "dev-1", "u-alice", SecretString(std::string(32, '1'))));
  ASSERT_TRUE(store_->BindDevice("id", "dev-1", "u-alice", SecretString(std::string(32, '2'))));
  EXPECT_EQ(store_->FindDevice("id", "dev-1")->key.Reveal(), std::string(32, '2'));
  EXPECT_EQ(*store_->FindDevice("id", "dev-1")->user_id, "u-alice");
  auto stolen = store_->BindDevice("id", "dev-1", "u-bob", SecretString(std::string(32, '3')));
  EXPECT_EQ(stolen.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->FindDevice("id", "dev-1")->key.Reveal(), std::string(32, '2'));

  ASSERT_TRUE(store_->SetUserEnabled("id", "alice", false));
  EXPECT_FALSE(store_->FindUser("id", "alice")->enabled);
  ASSERT_TRUE(store_->DeleteUser("id", "bob"));
  EXPECT_EQ(store_->FindUser("id", "bob").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteUser("id", "bob").error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, ReopenKeepsDataAndMigrationsAreIdempotent) {
  ASSERT_TRUE(store_->CreateDevice("app", "uid-z", SecretString(std::string(32, 'c'))));
  Reopen(1);
  EXPECT_TRUE(store_->FindDevice("app", "uid-z").has_value());
  EXPECT_EQ(SqliteStore::LatestSchemaVersion(), 1);
}

TEST_F(SqliteStoreTest, WrongMasterKeyCannotReadSecrets) {
  ASSERT_TRUE(store_->CreateDevice("app", "uid-k", SecretString(std::string(32, 'c'))));
  crypto::SecretBox other(SecretString(std::string(32, 'x')), random_);
  store_.reset();
  auto s = SqliteStore::Open({dir_.File("vendo.db"), 1}, other, clock_);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)->FindDevice("app", "uid-k").error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace vendo::store
