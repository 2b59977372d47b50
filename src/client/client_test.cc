// The refresh rules, with an injected clock and a fake v2 server behind the Transport.
#include "vendo/client.h"

#include <fmt/chrono.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "client/wire.h"
#include "protocol/timestamp.h"
#include "protocol/v2.h"
#include "testing/error_is.h"

using vendo::testing::ErrorIs;

namespace vendo::client {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::system_clock::time_point;

class ManualTime final : public TimeSource {
 public:
  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(std::chrono::seconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_ = TimePoint(std::chrono::seconds(1'800'000'000));
};

// A v2 server in memory: devices, tokens valid for an hour, and switches for faults.
class FakeServer final : public Transport {
 public:
  explicit FakeServer(std::shared_ptr<ManualTime> time) : time_(std::move(time)) {}

  Result<HttpResponse> Send(const HttpRequest& request, std::chrono::milliseconds) override {
    if (down) {
      ++failed_calls;
      return Fail(ErrorCode::kUnavailable, "connection refused");
    }
    std::string_view url = request.url;
    TimePoint server_now = time_->Now() + server_ahead;
    HttpResponse r;
    r.headers.emplace_back(
        "Date", fmt::format("{:%a, %d %b %Y %H:%M:%S GMT}",
                            fmt::gmtime(std::chrono::system_clock::to_time_t(server_now))));
    if (url.ends_with("/devices")) {
      ++registrations;
      std::lock_guard lock(mu_);
      std::string id = "d_" + std::to_string(registrations.load());
      devices_.push_back(id);
      r.status = 201;
      r.body = boost::json::serialize(boost::json::object{
          {"device_id", id}, {"device_secret", protocol::v2::Base64UrlEncode(Bytes(32, 7))}});
      return r;
    }
    if (url.ends_with("/token")) {
      ++token_calls;
      std::string auth;
      for (const auto& [k, v] : request.headers) {
        if (k == "Authorization") {
          auth = v;
        }
      }
      auto parsed = protocol::v2::ParseAuthorization(auth);
      if (!parsed) {
        r.status = 401;
        return r;
      }
      last_timestamp = parsed->timestamp;
      last_nonce = parsed->nonce;
      std::this_thread::sleep_for(token_delay);
      if (before_token) {
        before_token();
      }
      bool known = false;
      {
        std::lock_guard lock(mu_);
        known = std::find(devices_.begin(), devices_.end(), parsed->device_id) != devices_.end();
      }
      if (revoked) {
        r.status = 403;
        r.body = R"({"error":{"code":"device_revoked","message":"revoked"}})";
        return r;
      }
      if (!known) {
        r.status = 401;
        r.body = R"({"error":{"code":"invalid_signature","message":"no"}})";
        return r;
      }
      int n = ++issued;
      r.status = 200;
      r.body = boost::json::serialize(
          boost::json::object{{"AccessKeyId", "AKIA" + std::to_string(n)},
                              {"SecretAccessKey", "secret"},
                              {"SessionToken", "token"},
                              {"Expiration", protocol::IsoSeconds(server_now + 1h)},
                              {"Region", "eu-west-1"}});
      return r;
    }
    r.status = 404;
    return r;
  }

  void ForgetDevices() {
    std::lock_guard lock(mu_);
    devices_.clear();
  }

  std::atomic<bool> down{false};
  std::atomic<bool> revoked{false};
  std::atomic<int> registrations{0}, token_calls{0}, failed_calls{0}, issued{0};
  std::chrono::milliseconds token_delay{0};
  std::function<void()> before_token;  // runs inside each token call, before it answers
  std::chrono::seconds server_ahead{0};
  std::string last_timestamp;
  std::string last_nonce;

 private:
  std::shared_ptr<ManualTime> time_;
  std::mutex mu_;
  std::vector<std::string> devices_;
};

// Keeps the state in memory (the file store has its own tests below).
class MemoryStore final : public StateStore {
 public:
  Result<std::optional<State>> Load() override { return state; }
  Status Save(const State& s) override {
    ++saves;
    state = s;
    return {};
  }
  std::optional<State> state;
  int saves = 0;
};

class ClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<Client> Make(ClientOptions options = {},
                               std::shared_ptr<RandomSource> random = nullptr) {
    options.endpoint = "https://tvm.test";
    options.app = "photos";
    options.initial_backoff = 1ms;
    options.max_backoff = 2ms;
    auto server = std::make_unique<FakeServer>(time_);
    server_ = server.get();
    auto store = std::make_unique<MemoryStore>();
    store_ = store.get();
    auto client =
        Client::Create(options, std::move(store), std::move(server), time_, std::move(random));
    EXPECT_TRUE(client.has_value());
    return std::move(*client);
  }

  std::shared_ptr<ManualTime> time_ = std::make_shared<ManualTime>();
  FakeServer* server_ = nullptr;
  MemoryStore* store_ = nullptr;
};

// Every byte 0x01: the nonces a client signs with come from the source it is given.
class OnesRandom final : public RandomSource {
 public:
  void Fill(std::span<std::uint8_t> out) override { std::fill(out.begin(), out.end(), 1); }
};

TEST_F(ClientTest, NoncesComeFromTheInjectedRandomSource) {
  auto client = Make({}, std::make_shared<OnesRandom>());
  ASSERT_TRUE(client->GetCredentials().has_value());
  EXPECT_EQ(server_->last_nonce, "AQEBAQEBAQEBAQEBAQEBAQ");  // base64url of 16 bytes of 0x01
}

TEST_F(ClientTest, RegistersOnceAndDoesNotRefreshLongBeforeExpiry) {
  auto client = Make();
  auto first = client->GetCredentials();
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->access_key_id, "AKIA1");
  EXPECT_EQ(client->Region(), "eu-west-1");
  time_->Advance(54min);  // 6 minutes left: outside the 5-minute margin
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(client->GetCredentials()->access_key_id, "AKIA1");
  }
  EXPECT_EQ(server_->registrations, 1);
  EXPECT_EQ(server_->token_calls, 1);
  ASSERT_TRUE(store_->state);
  EXPECT_EQ(store_->state->credentials->access_key_id, "AKIA1");
}

TEST_F(ClientTest, ManyThreadsInTheMarginMakeOneRefreshAndNobodyWaits) {
  auto client = Make();
  ASSERT_TRUE(client->GetCredentials());
  time_->Advance(56min);  // 4 minutes left: inside the margin
  // The refresh is held until every other thread has had its answer: none may wait for it.
  std::mutex mu;
  std::condition_variable answered;
  int done = 0;
  server_->before_token = [&] {
    std::unique_lock lock(mu);
    answered.wait_for(lock, 10s, [&] { return done == 15; });
  };
  std::atomic<int> old_keys{0}, new_keys{0};
  std::vector<std::thread> threads;
  threads.reserve(16);
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      auto c = client->GetCredentials();
      ASSERT_TRUE(c.has_value());
      (c->access_key_id == "AKIA1" ? old_keys : new_keys)++;
      if (c->access_key_id == "AKIA1") {
        std::lock_guard lock(mu);
        ++done;
        answered.notify_all();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(server_->token_calls, 2);  // the first fetch and one refresh
  EXPECT_EQ(new_keys, 1);              // the refresher
  EXPECT_EQ(old_keys, 15);             // everyone else, at once, with still-valid keys
  EXPECT_EQ(client->GetCredentials()->access_key_id, "AKIA2");
}

TEST_F(ClientTest, ServesValidCredentialsWhileTheServerIsDownAndRecovers) {
  auto client = Make();
  ASSERT_TRUE(client->GetCredentials());
  time_->Advance(57min);
  server_->down = true;
  auto during = client->GetCredentials();
  ASSERT_TRUE(during.has_value());
  EXPECT_EQ(during->access_key_id, "AKIA1");
  EXPECT_EQ(server_->failed_calls, 4);  // max_attempts, with backoff between
  time_->Advance(4min);                 // now expired
  auto expired = client->GetCredentials();
  ASSERT_FALSE(expired.has_value());
  EXPECT_THAT(expired, ErrorIs(ErrorCode::kUnavailable));
  server_->down = false;
  auto after = client->GetCredentials();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->access_key_id, "AKIA2");
  EXPECT_EQ(server_->registrations, 1);  // an outage is no reason to register again
}

TEST_F(ClientTest, WaitersShareTheRefreshersFailureInsteadOfRetryingEach) {
  auto client = Make();
  ASSERT_TRUE(client->GetCredentials());
  time_->Advance(2h);
  server_->down = true;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  threads.reserve(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { errors += client->GetCredentials().has_value() ? 0 : 1; });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(errors, 8);
  EXPECT_LT(server_->failed_calls, 8 * 4);
}

TEST_F(ClientTest, ForcedRefreshFetchesEvenWhenFresh) {
  auto client = Make();
  ASSERT_TRUE(client->GetCredentials());
  EXPECT_EQ(client->Refresh()->access_key_id, "AKIA2");
}

TEST_F(ClientTest, SignsWithTheServersClock) {
  auto client = Make();
  server_->server_ahead = 2h;  // this device's clock is two hours slow
  ASSERT_TRUE(client->GetCredentials());
  EXPECT_EQ(client->ClockSkew(), 2h);
  ASSERT_TRUE(client->Refresh());
  EXPECT_EQ(server_->last_timestamp, protocol::IsoSeconds(time_->Now() + 2h));
  // Expiry is judged by the server's clock too: the credentials expire 1 h after its now.
  time_->Advance(54min);
  EXPECT_EQ(client->GetCredentials()->access_key_id, "AKIA2");
}

TEST_F(ClientTest, RegistersAgainOnlyWhenTheServerForgotTheDevice) {
  auto client = Make();
  ASSERT_TRUE(client->GetCredentials());
  server_->ForgetDevices();
  ASSERT_TRUE(client->Refresh());
  EXPECT_EQ(server_->registrations, 2);
  EXPECT_EQ(store_->state->device_id, "d_2");
  server_->revoked = true;  // revoked is not unknown: no new device
  auto refused = client->Refresh();
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused, ErrorIs(ErrorCode::kPermissionDenied));
  EXPECT_EQ(server_->registrations, 2);
  // A revoked device stops using what it had, too.
  EXPECT_FALSE(client->GetCredentials().has_value());
  EXPECT_FALSE(store_->state->credentials.has_value());
}

TEST_F(ClientTest, IdentityDevicesMustLogIn) {
  auto client = Make({.mode = Mode::kIdentity});
  auto creds = client->GetCredentials();
  ASSERT_FALSE(creds.has_value());
  EXPECT_THAT(creds, ErrorIs(ErrorCode::kUnauthenticated));
  EXPECT_EQ(server_->registrations, 0);
  EXPECT_THAT(client->Register(), ErrorIs(ErrorCode::kFailedPrecondition));
}

TEST_F(ClientTest, StateOfAnotherAppIsNotUsed) {
  auto store = std::make_unique<MemoryStore>();
  store->state = State{.endpoint = "https://other.test", .app = "photos"};
  auto client = Client::Create({.endpoint = "https://tvm.test", .app = "photos"}, std::move(store),
                               std::make_unique<FakeServer>(time_), time_);
  ASSERT_FALSE(client.has_value());
  EXPECT_THAT(client, ErrorIs(ErrorCode::kFailedPrecondition));
}

class FileStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vendo-client-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FileStateStoreTest, RoundTripsPrivatelyAndAtomically) {
  std::string path = (dir_ / "sub" / "state.json").string();
  auto store = FileStateStore(path);
  EXPECT_FALSE(store->Load()->has_value());
  State s{
      .endpoint = "https://tvm.test",
      .app = "photos",
      .protocol = Protocol::kLegacy,
      .mode = Mode::kIdentity,
      .device_id = "uid",
      .device_secret = "key",
      .username = "alice",
      .credentials = Credentials{"AKIA", "s", "t", TimePoint(std::chrono::seconds(1'900'000'000))},
      .region = "us-east-1"};
  ASSERT_TRUE(store->Save(s));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ / "sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  auto loaded = store->Load();
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  EXPECT_EQ(wire::StateToJson(**loaded), wire::StateToJson(s));
  // No temporary file is left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ / "sub"),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(FileStateStoreTest, RefusesAFileOthersCanRead) {
  std::filesystem::create_directories(dir_);
  std::string path = (dir_ / "state.json").string();
  ASSERT_TRUE(FileStateStore(path)->Save(State{.endpoint = "https://x", .app = "a"}));
  ::chmod(path.c_str(), 0644);
  auto loaded = FileStateStore(path)->Load();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_THAT(loaded, ErrorIs(ErrorCode::kPermissionDenied));
}

TEST_F(FileStateStoreTest, RefusesADamagedFile) {
  std::filesystem::create_directories(dir_);
  std::string path = (dir_ / "state.json").string();
  std::ofstream(path) << R"({"version": 1, "protocol": "v9")";
  ::chmod(path.c_str(), 0600);
  EXPECT_FALSE(FileStateStore(path)->Load().has_value());
}

}  // namespace
}  // namespace vendo::client
