#include "store/caching_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/sqlite_store.h"
#include "testing/error_is.h"
#include "testing/fixed_clock.h"
#include "testing/temp_dir.h"

using vendo::testing::ErrorIs;

namespace vendo::store {
namespace {

using namespace std::chrono;

class CachingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("db");
    inner_ = std::move(*SqliteStore::Open({path_, 8}, box_, clock_));
    // A second store on the same file plays "another process" (the admin CLI).
    other_ = std::move(*SqliteStore::Open({path_, 8}, box_, clock_));
    cache_ = std::make_unique<CachingStore>(*inner_, clock_, CacheOptions{milliseconds(1000), 100});
  }
  void TearDown() override {
    cache_.reset();
    inner_.reset();
    other_.reset();
  }

  testing::TempDir dir_;
  std::string path_;
  OsRandom random_;
  FixedClock clock_{system_clock::time_point(seconds(1'700'000'000))};
  crypto::SecretBox box_{SecretString(std::string(32, 'm')), random_};
  std::unique_ptr<SqliteStore> inner_, other_;
  std::unique_ptr<CachingStore> cache_;
};

TEST_F(CachingStoreTest, ReadsItsOwnWritesAtOnce) {
  EXPECT_THAT(cache_->FindDevice("id", "dev"), ErrorIs(ErrorCode::kNotFound));
  ASSERT_TRUE(cache_->BindDevice("id", "dev", "u1", SecretString(std::string(32, '1'))));
  EXPECT_EQ(cache_->FindDevice("id", "dev")->key.Reveal(),
            std::string(32, '1'));  // not cached as absent
  ASSERT_TRUE(cache_->BindDevice("id", "dev", "u1", SecretString(std::string(32, '2'))));
  EXPECT_EQ(cache_->FindDevice("id", "dev")->key.Reveal(), std::string(32, '2'));

  ASSERT_TRUE(cache_->CreateUser("id", "alice", "u1", SecretString(std::string(64, 'a'))));
  EXPECT_TRUE(cache_->FindUserById("id", "u1")->enabled);
  ASSERT_TRUE(cache_->SetUserEnabled("id", "alice", false));
  EXPECT_FALSE(cache_->FindUserById("id", "u1")->enabled);
  ASSERT_TRUE(cache_->DeleteUser("id", "alice"));
  EXPECT_THAT(cache_->FindUserById("id", "u1"), ErrorIs(ErrorCode::kNotFound));
}

TEST_F(CachingStoreTest, OthersWritesAreSeenAfterTheTtl) {
  ASSERT_TRUE(cache_->BindDevice("id", "dev", "u1", SecretString(std::string(32, '1'))));
  ASSERT_TRUE(cache_->CreateUser("id", "alice", "u1", SecretString(std::string(64, 'a'))));
  ASSERT_TRUE(cache_->FindDevice("id", "dev").has_value());
  ASSERT_TRUE(cache_->FindUserById("id", "u1")->enabled);
  ASSERT_TRUE(other_->BindDevice("id", "dev", "u1", SecretString(std::string(32, '9'))));
  ASSERT_TRUE(other_->SetUserEnabled("id", "alice", false));
  clock_.Advance(milliseconds(999));
  EXPECT_EQ(cache_->FindDevice("id", "dev")->key.Reveal(), std::string(32, '1'));  // within TTL
  EXPECT_TRUE(cache_->FindUserById("id", "u1")->enabled);
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(cache_->FindDevice("id", "dev")->key.Reveal(), std::string(32, '9'));
  EXPECT_FALSE(cache_->FindUserById("id", "u1")->enabled);
}

TEST_F(CachingStoreTest, AWallClockSetBackDoesNotKeepARevokedDeviceCached) {
  ASSERT_TRUE(cache_->CreateDevice("a", "dev", SecretString(std::string(32, '1'))));
  ASSERT_FALSE(cache_->FindDevice("a", "dev")->revoked);
  ASSERT_TRUE(other_->RevokeDevice("a", "dev"));     // another host revokes it
  clock_.Set(clock_.Now() - std::chrono::hours(1));  // and the wall clock steps back an hour
  clock_.Advance(milliseconds(1000));                // one TTL of real time later
  EXPECT_TRUE(cache_->FindDevice("a", "dev")->revoked);
}

TEST_F(CachingStoreTest, ZeroTtlDisablesCachingAndSizeIsBounded) {
  CachingStore uncached(*inner_, clock_, CacheOptions{milliseconds(0), 100});
  ASSERT_TRUE(uncached.BindDevice("id", "dev", "u1", SecretString(std::string(32, '1'))));
  ASSERT_TRUE(uncached.FindDevice("id", "dev").has_value());
  ASSERT_TRUE(other_->BindDevice("id", "dev", "u1", SecretString(std::string(32, '9'))));
  EXPECT_EQ(uncached.FindDevice("id", "dev")->key.Reveal(), std::string(32, '9'));
  for (int i = 0; i < 500; ++i) {
    std::string uid = "uid-" + std::to_string(i) + "-00000000000000000000";
    ASSERT_TRUE(cache_->CreateDevice("a", uid, SecretString(std::string(32, 'c'))));
    ASSERT_TRUE(cache_->FindDevice("a", uid).has_value());
  }
  EXPECT_GT(cache_->CachedDevicesForTest(), 0u);
  EXPECT_LE(cache_->CachedDevicesForTest(), 100u);  // max_entries, though 500 were read
  EXPECT_TRUE(
      cache_->FindDevice("a", "uid-0-00000000000000000000").has_value());  // evicted: re-read
}

}  // namespace
}  // namespace vendo::store

namespace vendo::store {
namespace {

TEST_F(CachingStoreTest, UsersByNameAreCachedInvalidatedAndInTheMemoryView) {
  EXPECT_THAT(cache_->MemoryOnly().FindUser("fed", "google:1"), ErrorIs(ErrorCode::kWouldBlock));
  ASSERT_TRUE(cache_->CreateUser("fed", "google:1", "u1", SecretString("")));
  ASSERT_TRUE(cache_->FindUser("fed", "google:1"));  // read through: now in memory
  auto cached = cache_->MemoryOnly().FindUser("fed", "google:1");
  ASSERT_TRUE(cached) << cached.error().message;
  EXPECT_EQ(cached->user_id, "u1");
  // Its own writes at once; another process's within the TTL.
  ASSERT_TRUE(cache_->SetUserEnabled("fed", "google:1", false));
  EXPECT_THAT(cache_->MemoryOnly().FindUser("fed", "google:1"), ErrorIs(ErrorCode::kWouldBlock));
  EXPECT_FALSE(cache_->FindUser("fed", "google:1")->enabled);
  ASSERT_TRUE(other_->SetUserEnabled("fed", "google:1", true));
  EXPECT_FALSE(cache_->FindUser("fed", "google:1")->enabled);  // within the TTL
  clock_.Advance(milliseconds(1000));
  EXPECT_TRUE(cache_->FindUser("fed", "google:1")->enabled);
  ASSERT_TRUE(cache_->DeleteUser("fed", "google:1"));
  EXPECT_THAT(cache_->FindUser("fed", "google:1"), ErrorIs(ErrorCode::kNotFound));
}

}  // namespace
}  // namespace vendo::store
