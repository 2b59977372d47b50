// The store conformance suite: the same tests against every Store implementation, SQLite in
// a temporary directory and PostgreSQL started for this program on 127.0.0.1.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "store/copy.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "testing/error_is.h"
#include "testing/fixed_clock.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"

using vendo::testing::ErrorIs;

namespace vendo::store {
namespace {

testing::PostgresServer* g_postgres = nullptr;

class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    server_ = std::make_unique<testing::PostgresServer>();
    g_postgres = server_.get();
  }
  void TearDown() override {
    g_postgres = nullptr;
    server_.reset();
  }

 private:
  std::unique_ptr<testing::PostgresServer> server_;
};

// Wipes the tables between tests (the schema stays).
void TruncatePostgres() {
  auto conn = PgConnection::Connect(g_postgres->url(), SecretString(g_postgres->password()));
  ASSERT_TRUE(conn) << conn.error().message;
  auto tables =
      (*conn)->Exec("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'devices'");
  ASSERT_TRUE(tables);
  if (tables->Int(0, 0) == 1) {
    ASSERT_TRUE((*conn)->Exec("TRUNCATE devices, users, counters"));
  }
}

PostgresOptions PgOptions() {
  PostgresOptions o;
  o.url = g_postgres->url();
  o.password = SecretString(g_postgres->password());
  return o;
}

enum class Backend { kSqlite, kPostgres };

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      TruncatePostgres();
    }
    Reopen();
  }
  void TearDown() override { store_.reset(); }

  // A new store object on the same data: a restart of the process or another host.
  void Reopen() {
    store_.reset();
    store_ = OpenWith(box_);
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<Store> OpenWith(const crypto::SecretBox& box) {
    if (GetParam() == Backend::kSqlite) {
      auto s = SqliteStore::Open({dir_.File("vendo.db"), 256}, box, clock_);
      EXPECT_TRUE(s) << s.error().message;
      return s ? std::unique_ptr<Store>(std::move(*s)) : nullptr;
    }
    auto s = PostgresStore::Open(PgOptions(), box, clock_);
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::unique_ptr<Store>(std::move(*s)) : nullptr;
  }

  testing::TempDir dir_;
  OsRandom random_;
  FixedClock clock_{std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000))};
  crypto::SecretBox box_{SecretString(std::string(32, 'm')), random_};
  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformance, DeviceRegistersOnceAndIsFound) {
  SecretString key("000102030405060708090a0b0c0d0e0f");
  ASSERT_TRUE(store_->CreateDevice("app", "uid-0000000000000000000000001", key).has_value());
  auto again = store_->CreateDevice("app", "uid-0000000000000000000000001", key);
  ASSERT_FALSE(again.has_value());
  EXPECT_THAT(again, ErrorIs(ErrorCode::kAlreadyExists));
  // Same uid in another app is a different device.
  EXPECT_TRUE(store_->CreateDevice("other", "uid-0000000000000000000000001", key).has_value());
  auto found = store_->FindDevice("app", "uid-0000000000000000000000001");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->key.Reveal(), key.Reveal());
  EXPECT_FALSE(found->user_id.has_value());
  EXPECT_THAT(store_->FindDevice("app", "nope"), ErrorIs(ErrorCode::kNotFound));
  EXPECT_EQ(*store_->CountDevices("app"), 1);
  EXPECT_TRUE(store_->Ping().has_value());
}

TEST_P(StoreConformance, KeysCompareBytewise) {
  SecretString key(std::string(32, 'k'));
  ASSERT_TRUE(store_->CreateDevice("app", "Device-A", key));
  ASSERT_TRUE(store_->CreateDevice("app", "device-a", key));  // case matters
  ASSERT_TRUE(store_->CreateUser("app", "Zoë", "u1", SecretString("h1")));
  ASSERT_TRUE(store_->CreateUser("app", "zoë", "u2", SecretString("h2")));
  EXPECT_EQ(store_->FindUser("app", "Zoë")->user_id, "u1");
  EXPECT_EQ(store_->FindUser("app", "zoë")->user_id, "u2");
  EXPECT_THAT(store_->FindUser("app", "zoe"), ErrorIs(ErrorCode::kNotFound));
}

TEST_P(StoreConformance, ConcurrentRegistrationsAllCommitAndDuplicatesFailAlone) {
  constexpr int kThreads = 16, kPerThread = 40;
  std::atomic<int> ok{0}, dup{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread also races on one shared uid: exactly one may win it.
        std::string uid = i == 0 ? "shared-uid-000000000000000000"
                                 : "uid-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = store_->CreateDevice("app", uid, SecretString(std::string(32, 'a')));
        (r ? ok : dup)++;
        if (!r) {
          EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists) << r.error().message;
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

TEST_P(StoreConformance, UsersAndDeviceBinding) {
  ASSERT_TRUE(store_->CreateUser("id", "alice", "u-alice", SecretString(std::string(64, 'a'))));
  ASSERT_TRUE(store_->CreateUser("id", "bob", "u-bob", SecretString(std::string(64, 'b'))));
  EXPECT_THAT(store_->CreateUser("id", "alice", "u-x", SecretString("x")),
              ErrorIs(ErrorCode::kAlreadyExists));
  auto alice = store_->FindUser("id", "alice");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->password_hash.Reveal(), std::string(64, 'a'));
  EXPECT_TRUE(alice->enabled);
  EXPECT_EQ(store_->FindUserById("id", "u-bob")->username, "bob");
  EXPECT_EQ(*store_->CountUsers("id"), 2);

  ASSERT_TRUE(store_->BindDevice("id", "dev-1", "u-alice", SecretString(std::string(32, '1'))));
  ASSERT_TRUE(store_->BindDevice("id", "dev-1", "u-alice", SecretString(std::string(32, '2'))));
  EXPECT_EQ(store_->FindDevice("id", "dev-1")->key.Reveal(), std::string(32, '2'));
  EXPECT_EQ(*store_->FindDevice("id", "dev-1")->user_id, "u-alice");
  auto stolen = store_->BindDevice("id", "dev-1", "u-bob", SecretString(std::string(32, '3')));
  EXPECT_THAT(stolen, ErrorIs(ErrorCode::kFailedPrecondition));
  EXPECT_EQ(store_->FindDevice("id", "dev-1")->key.Reveal(), std::string(32, '2'));
  // An anonymous device cannot be taken over by a login either.
  ASSERT_TRUE(store_->CreateDevice("id", "anon-1", SecretString(std::string(32, '4'))));
  EXPECT_THAT(store_->BindDevice("id", "anon-1", "u-bob", SecretString(std::string(32, '5'))),
              ErrorIs(ErrorCode::kFailedPrecondition));

  ASSERT_TRUE(store_->SetUserEnabled("id", "alice", false));
  EXPECT_FALSE(store_->FindUser("id", "alice")->enabled);
  ASSERT_TRUE(store_->SetUserEnabled("id", "alice", true));
  EXPECT_TRUE(store_->FindUser("id", "alice")->enabled);
  EXPECT_THAT(store_->SetUserEnabled("id", "nobody", false), ErrorIs(ErrorCode::kNotFound));
  ASSERT_TRUE(store_->DeleteUser("id", "bob"));
  EXPECT_THAT(store_->FindUser("id", "bob"), ErrorIs(ErrorCode::kNotFound));
  EXPECT_THAT(store_->DeleteUser("id", "bob"), ErrorIs(ErrorCode::kNotFound));
}

TEST_P(StoreConformance, BoundDevicesKeepTheirClaimsSealed) {
  ASSERT_TRUE(store_->CreateUser("fed", "google:alice", "u-alice", SecretString("")));
  const std::string claims = R"({"idp":"google","claims":{"sub":"alice"}})";
  ASSERT_TRUE(store_->CreateBoundDevice("fed", "d_1", "u-alice", SecretString(std::string(32, 'k')),
                                        SecretString(claims)));
  EXPECT_THAT(
      store_->CreateBoundDevice("fed", "d_1", "u-bob", SecretString("other"), SecretString("{}")),
      ErrorIs(ErrorCode::kAlreadyExists));
  Reopen();
  auto device = store_->FindDevice("fed", "d_1");
  ASSERT_TRUE(device) << device.error().message;
  EXPECT_EQ(device->key.Reveal(), std::string(32, 'k'));
  EXPECT_EQ(device->user_id, "u-alice");
  EXPECT_EQ(device->claims.Reveal(), claims);
  EXPECT_FALSE(device->revoked);
  // Every other device has none.
  ASSERT_TRUE(store_->CreateDevice("fed", "anon", SecretString("k")));
  EXPECT_TRUE(store_->FindDevice("fed", "anon")->claims.empty());
  // A revoked bound device keeps its claims, and gets nothing.
  ASSERT_TRUE(store_->RevokeDevice("fed", "d_1"));
  EXPECT_TRUE(store_->FindDevice("fed", "d_1")->revoked);
  // Sealed: the row holds no claim in the clear.
  auto* rows = dynamic_cast<RowAccess*>(store_.get());
  ASSERT_NE(rows, nullptr);
  auto page = rows->UserDevicesAfter("fed", "u-alice", "", 10);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 1U);
  ASSERT_TRUE((*page)[0].claims_sealed);
  EXPECT_EQ((*page)[0].claims_sealed->find("alice"), std::string::npos);
}

TEST_P(StoreConformance, UserDevicesArePagedByUidForThatUserOnly) {
  auto* rows = dynamic_cast<RowAccess*>(store_.get());
  ASSERT_NE(rows, nullptr);
  for (std::string uid : {"c", "a", "b"}) {
    ASSERT_TRUE(store_->BindDevice("id", uid, "u-alice", SecretString("k")));
  }
  ASSERT_TRUE(store_->BindDevice("id", "d", "u-bob", SecretString("k")));
  ASSERT_TRUE(store_->BindDevice("other", "e", "u-alice", SecretString("k")));
  ASSERT_TRUE(store_->CreateDevice("id", "anon", SecretString("k")));
  auto uids = [&](std::string_view after, std::size_t limit) {
    std::vector<std::string> out;
    auto page = rows->UserDevicesAfter("id", "u-alice", after, limit);
    EXPECT_TRUE(page.has_value());
    for (const auto& d : page.value_or(std::vector<DeviceRow>{})) {
      EXPECT_EQ(d.app, "id");
      EXPECT_EQ(d.user_id, "u-alice");
      out.push_back(d.uid);
    }
    return out;
  };
  EXPECT_EQ(uids("", 10), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(uids("", 2), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(uids("b", 2), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(uids("c", 2).empty());
  EXPECT_TRUE(rows->UserDevicesAfter("id", "u-nobody", "", 10)->empty());
}

TEST_P(StoreConformance, RacingLoginsOnOneDeviceHaveOneOwner) {
  ASSERT_TRUE(store_->CreateUser("id", "alice", "u-alice", SecretString("a")));
  ASSERT_TRUE(store_->CreateUser("id", "bob", "u-bob", SecretString("b")));
  for (int round = 0; round < 20; ++round) {
    std::string uid = "race-" + std::to_string(round);
    std::atomic<int> won{0};
    std::thread a(
        [&] { won += store_->BindDevice("id", uid, "u-alice", SecretString("1")) ? 1 : 0; });
    std::thread b(
        [&] { won += store_->BindDevice("id", uid, "u-bob", SecretString("2")) ? 1 : 0; });
    a.join();
    b.join();
    EXPECT_EQ(won.load(), 1) << uid;
  }
}

TEST_P(StoreConformance, RevokedDevicesStayRevoked) {
  ASSERT_TRUE(store_->CreateDevice("app", "lost-phone", SecretString(std::string(32, 'k'))));
  EXPECT_FALSE(store_->FindDevice("app", "lost-phone")->revoked);
  EXPECT_EQ(store_->FindDevice("app", "lost-phone")->created_at, 1'700'000'000);
  ASSERT_TRUE(store_->RevokeDevice("app", "lost-phone"));
  ASSERT_TRUE(store_->RevokeDevice("app", "lost-phone"));  // again: still revoked, no error
  EXPECT_TRUE(store_->FindDevice("app", "lost-phone")->revoked);
  EXPECT_THAT(store_->CreateDevice("app", "lost-phone", SecretString("x")),
              ErrorIs(ErrorCode::kAlreadyExists));
  EXPECT_THAT(store_->RevokeDevice("app", "never-was"), ErrorIs(ErrorCode::kNotFound));
  // A revoked identity device cannot be logged in again, even by its own user.
  ASSERT_TRUE(store_->CreateUser("id", "alice", "u-a", SecretString("h")));
  ASSERT_TRUE(store_->BindDevice("id", "phone", "u-a", SecretString("1")));
  ASSERT_TRUE(store_->RevokeDevice("id", "phone"));
  EXPECT_THAT(store_->BindDevice("id", "phone", "u-a", SecretString("2")),
              ErrorIs(ErrorCode::kFailedPrecondition));
  Reopen();
  EXPECT_TRUE(store_->FindDevice("id", "phone")->revoked);
}

TEST_P(StoreConformance, ADeletedDeviceIsGoneAndItsUidFree) {
  ASSERT_TRUE(store_->CreateDevice("app", "unaudited", SecretString(std::string(32, 'k'))));
  ASSERT_TRUE(store_->DeleteDevice("app", "unaudited"));
  EXPECT_THAT(store_->FindDevice("app", "unaudited"), ErrorIs(ErrorCode::kNotFound));
  EXPECT_THAT(store_->DeleteDevice("app", "unaudited"), ErrorIs(ErrorCode::kNotFound));
  EXPECT_TRUE(store_->CreateDevice("app", "unaudited", SecretString(std::string(32, 'j'))));
  Reopen();
  EXPECT_EQ(store_->FindDevice("app", "unaudited")->key.Reveal(), std::string(32, 'j'));
}

TEST_P(StoreConformance, ExpiredCountersArePurgedSoTheTableStaysBounded) {
  // A long run of single-use keys (v2 nonces, 2012 logins): each counted once, in windows
  // that end one after another.
  std::int64_t purged_by_hand = 0;
  for (int minute = 0; minute < 10; ++minute) {
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(store_->CountEvent("nonce:" + std::to_string(minute) + ":" + std::to_string(i),
                                     std::chrono::seconds(30)));
    }
    clock_.Advance(std::chrono::seconds(61));  // CountEvent purges at most once a minute
  }
  // Only the last minute's keys are in their window; CountEvent purged the rest by itself.
  auto purged = store_->PurgeExpiredCounters();
  ASSERT_TRUE(purged) << purged.error().message;
  purged_by_hand = *purged;
  EXPECT_EQ(purged_by_hand, 50);  // the last minute's, whose windows are now over too
  EXPECT_EQ(*store_->PurgeExpiredCounters(), 0);
  // A live counter is kept.
  ASSERT_TRUE(store_->CountEvent("live", std::chrono::seconds(600)));
  EXPECT_EQ(*store_->PurgeExpiredCounters(), 0);
  EXPECT_EQ(store_->PeekCount("live")->count, 1);
}

TEST_P(StoreConformance, CountersCountWithinAWindowShared) {
  auto first = store_->CountEvent("login:alice", std::chrono::seconds(60));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->count, 1);
  EXPECT_EQ(first->window_end, 1'700'000'060);
  EXPECT_EQ(store_->CountEvent("login:alice", std::chrono::seconds(60))->count, 2);
  EXPECT_EQ(store_->CountEvent("login:bob", std::chrono::seconds(60))->count, 1);
  Reopen();  // another host sees the same counts
  EXPECT_EQ(store_->PeekCount("login:alice")->count, 2);
  EXPECT_EQ(store_->PeekCount("nobody")->count, 0);
  clock_.Advance(std::chrono::seconds(60));  // the window is over: counting starts again
  EXPECT_EQ(store_->PeekCount("login:alice")->count, 0);
  auto next = store_->CountEvent("login:alice", std::chrono::seconds(60));
  EXPECT_EQ(next->count, 1);
  EXPECT_EQ(next->window_end, 1'700'000'120);
  ASSERT_TRUE(store_->UncountEvent("login:alice"));
  EXPECT_EQ(store_->PeekCount("login:alice")->count, 0);
  ASSERT_TRUE(store_->UncountEvent("login:alice"));  // never below zero
  EXPECT_EQ(store_->CountEvent("login:alice", std::chrono::seconds(60))->count, 1);
  ASSERT_TRUE(store_->ResetCount("login:alice"));
  EXPECT_EQ(store_->PeekCount("login:alice")->count, 0);
  // Concurrent events are all counted.
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 10; ++j) {
        EXPECT_TRUE(store_->CountEvent("flood", std::chrono::seconds(3600)));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(store_->PeekCount("flood")->count, 80);
}

TEST_P(StoreConformance, ActivityAddsUpAcrossHostsAndForgetsOldMinutes) {
  const std::int64_t now = 28'000'000;
  ASSERT_TRUE(store_->AddActivity("app", now, {.registrations = 2, .vends = 10}));
  ASSERT_TRUE(store_->AddActivity("app", now, {.registrations = 1, .vends = 5}));  // another host
  ASSERT_TRUE(store_->AddActivity("app", now - 90, {.registrations = 4, .vends = 40}));
  ASSERT_TRUE(store_->AddActivity("other", now, {.registrations = 100, .vends = 100}));
  Reopen();
  auto hour = store_->ActivitySince("app", now - 59);
  ASSERT_TRUE(hour) << hour.error().message;
  EXPECT_EQ(hour->registrations, 3);
  EXPECT_EQ(hour->vends, 15);
  auto day = store_->ActivitySince("app", now - std::int64_t{24} * 60 + 1);
  EXPECT_EQ(day->registrations, 7);
  EXPECT_EQ(day->vends, 55);
  EXPECT_EQ(store_->ActivitySince("nobody", 0)->vends, 0);
  // A week on, adding forgets what is older than a week.
  ASSERT_TRUE(store_->AddActivity("app", now + store::kActivityKeptMinutes, {.vends = 1}));
  EXPECT_EQ(store_->ActivitySince("app", 0)->vends, 16);
}

TEST_P(StoreConformance, DeviceKeysRotateUnlessRevoked) {
  ASSERT_TRUE(store_->CreateDevice("app", "d_1", SecretString("old")));
  ASSERT_TRUE(store_->SetDeviceKey("app", "d_1", SecretString("new")));
  EXPECT_EQ(store_->FindDevice("app", "d_1")->key.Reveal(), "new");
  EXPECT_THAT(store_->SetDeviceKey("app", "nope", SecretString("x")),
              ErrorIs(ErrorCode::kNotFound));
  ASSERT_TRUE(store_->RevokeDevice("app", "d_1"));
  EXPECT_THAT(store_->SetDeviceKey("app", "d_1", SecretString("again")),
              ErrorIs(ErrorCode::kNotFound));
}

TEST_P(StoreConformance, ReopenKeepsData) {
  ASSERT_TRUE(store_->CreateDevice("app", "uid-z", SecretString(std::string(32, 'c'))));
  ASSERT_TRUE(store_->CreateUser("app", "carol", "u-c", SecretString("hash")));
  Reopen();
  EXPECT_EQ(store_->FindDevice("app", "uid-z")->key.Reveal(), std::string(32, 'c'));
  EXPECT_EQ(store_->FindUser("app", "carol")->password_hash.Reveal(), "hash");
}

TEST_P(StoreConformance, WrongMasterKeyCannotReadSecrets) {
  ASSERT_TRUE(store_->CreateDevice("app", "uid-k", SecretString(std::string(32, 'c'))));
  crypto::SecretBox other(SecretString(std::string(32, 'x')), random_);
  store_.reset();
  auto with_other = OpenWith(other);
  ASSERT_NE(with_other, nullptr);
  EXPECT_THAT(with_other->FindDevice("app", "uid-k"), ErrorIs(ErrorCode::kInternal));
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

// PostgreSQL only: what a shared network database adds.

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { TruncatePostgres(); }
  OsRandom random_;
  FixedClock clock_{std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000))};
  crypto::SecretBox box_{SecretString(std::string(32, 'm')), random_};
};

TEST_F(PostgresStoreTest, HostsStartingAtOnceMigrateOnce) {
  std::vector<std::thread> hosts;
  std::atomic<int> opened{0};
  hosts.reserve(6);
  for (int i = 0; i < 6; ++i) {
    hosts.emplace_back([&] {
      auto s = PostgresStore::Open(PgOptions(), box_, clock_);
      EXPECT_TRUE(s) << s.error().message;
      opened += s ? 1 : 0;
    });
  }
  for (auto& h : hosts) {
    h.join();
  }
  EXPECT_EQ(opened.load(), 6);
  auto conn = PgConnection::Connect(g_postgres->url(), SecretString(g_postgres->password()));
  ASSERT_TRUE(conn);
  auto rows = (*conn)->Exec("SELECT version FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->Rows(), PostgresStore::LatestSchemaVersion());
  EXPECT_EQ(rows->Int(0, 0), 1);
}

TEST_F(PostgresStoreTest, AWrongPasswordIsAClearError) {
  PostgresOptions o = PgOptions();
  o.password = SecretString("wrong");
  auto s = PostgresStore::Open(o, box_, clock_);
  ASSERT_FALSE(s);
  EXPECT_THAT(s, ErrorIs(ErrorCode::kUnavailable));
  EXPECT_NE(s.error().message.find("password authentication failed"), std::string::npos)
      << s.error().message;
  EXPECT_EQ(s.error().message.find("wrong"), std::string::npos) << "no password in errors";
}

TEST_F(PostgresStoreTest, RecoversAfterTheServerRestarts) {
  auto opened = PostgresStore::Open(PgOptions(), box_, clock_);
  ASSERT_TRUE(opened) << opened.error().message;
  auto& store = **opened;
  ASSERT_TRUE(store.CreateDevice("app", "before-restart", SecretString(std::string(32, 'r'))));
  g_postgres->Kill();
  auto down = store.FindDevice("app", "before-restart");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, ErrorCode::kUnavailable) << down.error().message;
  EXPECT_THAT(store.CreateDevice("app", "while-down", SecretString("x")),
              ErrorIs(ErrorCode::kUnavailable));
  g_postgres->Restart();
  // The pooled connection is dead; the store notices and opens a new one by itself.
  auto back = store.FindDevice("app", "before-restart");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->key.Reveal(), std::string(32, 'r'));
  EXPECT_TRUE(store.CreateDevice("app", "after-restart", SecretString("y")));
}

TEST_F(PostgresStoreTest, CopyFromSqliteIsCompleteVerifiedAndSafeToRerun) {
  testing::TempDir dir;
  auto sqlite = SqliteStore::Open({dir.File("single-host.db"), 256}, box_, clock_);
  ASSERT_TRUE(sqlite) << sqlite.error().message;
  for (int i = 0; i < 2345; ++i) {  // several pages of 1000
    ASSERT_TRUE((*sqlite)->CreateDevice("anon", "device-" + std::to_string(i),
                                        SecretString("key-" + std::to_string(i))));
  }
  for (int i = 0; i < 30; ++i) {
    std::string n = std::to_string(i);
    ASSERT_TRUE((*sqlite)->CreateUser("ident", "user" + n, "id" + n, SecretString("hash" + n)));
    ASSERT_TRUE((*sqlite)->BindDevice("ident", "phone-" + n, "id" + n, SecretString("k" + n)));
  }
  ASSERT_TRUE((*sqlite)->CreateBoundDevice("ident", "bound-1", "id1", SecretString("kb"),
                                           SecretString(R"({"claims":{}})")));
  ASSERT_TRUE((*sqlite)->SetUserEnabled("ident", "user7", false));
  ASSERT_TRUE((*sqlite)->RevokeDevice("anon", "device-99"));
  auto pg = PostgresStore::Open(PgOptions(), box_, clock_);
  ASSERT_TRUE(pg) << pg.error().message;

  auto first = CopyRows(**sqlite, **pg);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(first->verified());
  EXPECT_EQ(first->devices_copied, 2345 + 30 + 1);
  EXPECT_EQ(first->users_copied, 30);
  EXPECT_EQ(first->target_devices.rows, 2376);
  // The secrets open on the other side (same master key, same sealing contexts).
  EXPECT_EQ((*pg)->FindDevice("anon", "device-1234")->key.Reveal(), "key-1234");
  EXPECT_EQ((*pg)->FindDevice("ident", "phone-3")->user_id, "id3");
  EXPECT_EQ((*pg)->FindUser("ident", "user5")->password_hash.Reveal(), "hash5");
  EXPECT_FALSE((*pg)->FindUser("ident", "user7")->enabled);
  EXPECT_TRUE((*pg)->FindDevice("anon", "device-99")->revoked);
  EXPECT_EQ((*pg)->FindDevice("ident", "bound-1")->claims.Reveal(), R"({"claims":{}})");

  auto again = CopyRows(**sqlite, **pg);  // an interrupted or repeated copy
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->verified());
  EXPECT_EQ(again->devices_copied, 0);

  // A target row that differs from the source is caught, not papered over.
  auto conn = PgConnection::Connect(g_postgres->url(), SecretString(g_postgres->password()));
  ASSERT_TRUE(conn);
  ASSERT_TRUE((*conn)->Exec("UPDATE devices SET updated_at = 1 WHERE uid = 'device-7'"));
  auto differs = CopyRows(**sqlite, **pg);
  ASSERT_TRUE(differs);
  EXPECT_FALSE(differs->verified());
  EXPECT_EQ(differs->source_devices.rows, differs->target_devices.rows);
  EXPECT_NE(differs->source_devices.sha256, differs->target_devices.sha256);
}

TEST(PgErrorCode, MapsRetryableStates) {
  EXPECT_EQ(PgErrorCode("08006"), ErrorCode::kUnavailable);  // connection failure
  EXPECT_EQ(PgErrorCode("57P01"), ErrorCode::kUnavailable);  // admin shutdown
  EXPECT_EQ(PgErrorCode("53300"), ErrorCode::kUnavailable);  // too many connections
  EXPECT_EQ(PgErrorCode("40001"), ErrorCode::kUnavailable);  // serialization failure
  EXPECT_EQ(PgErrorCode("23505"), ErrorCode::kAlreadyExists);
  EXPECT_EQ(PgErrorCode("42P01"), ErrorCode::kInternal);  // undefined table: a bug
}

}  // namespace
}  // namespace vendo::store

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new vendo::store::PostgresEnvironment);
  return RUN_ALL_TESTS();
}
