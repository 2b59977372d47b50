// The 2012 use cases end to end through the service and a real SQLite store, with the clock
// and random source injected so the vectors' exact bodies come out.
#include "vending/legacy_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "common/encoding.h"
#include "issuer/dev_issuer.h"
#include "protocol/legacy.h"
#include "protocol/timestamp.h"
#include "store/sqlite_store.h"
#include "testing/error_is.h"
#include "testing/fixed_clock.h"
#include "testing/scripted_random.h"
#include "testing/temp_dir.h"

using vendo::testing::ErrorIs;

namespace vendo::server {
namespace {

using protocol::legacy::Mode;
using namespace std::chrono;

class LegacyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::SqliteStore::Open({dir_.File("db"), 16}, box_, clock_));
    service_ = std::make_unique<LegacyService>(*store_, clock_, random_);
    anon_ = MakeApp("anon", Mode::kAnonymous, "anon", "");
    ident_ = MakeApp("ident", Mode::kIdentity, "MyMobileAppName", "http://tvm.example.com/");
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
  }
  App MakeApp(std::string name, Mode mode, const std::string& app_name,
              const std::string& endpoint) {
    AppConfig c;
    c.name = std::move(name);
    c.mode = mode;
    c.app_name = app_name;
    c.public_endpoint = endpoint;
    c.policy = R"({"Statement":[{"Resource":"arn:aws:s3:::b/${username}${uid}/*"}]})";
    return App{c, *policy::Template::Parse(c.policy), &issuer_,
               protocol::legacy::NormalizeEndpoint(endpoint), AsciiLower(app_name)};
  }
  Params P(const std::string& query) { return *Params::Parse(query, "", ""); }
  void SetNow(std::string_view ts) { clock_.Set(*protocol::ParseLegacyTimestamp(ts)); }

  testing::TempDir dir_;
  FixedClock clock_{system_clock::time_point{}};
  ScriptedRandom random_;
  OsRandom box_random_;
  crypto::SecretBox box_{SecretString(std::string(32, 'k')), box_random_};
  issuer::DevIssuer issuer_{clock_, random_};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<LegacyService> service_;
  std::optional<App> anon_, ident_;
};

Credentials VectorCredentials(std::int64_t expiration_ms) {
  return {"ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
          "AQoDYXdzEJr//+EXAMPLE/SESSION+TOKEN==",
          system_clock::time_point(milliseconds(expiration_ms))};
}

TEST_F(LegacyServiceTest, Tv1AnonymousRegisterAndGetToken) {
  ASSERT_TRUE(service_->RegisterDevice(
      *anon_, P("uid=0123456789abcdef0123456789abcdef&key=000102030405060708090a0b0c0d0e0f")));
  EXPECT_EQ(service_
                ->RegisterDevice(*anon_, P("uid=0123456789abcdef0123456789abcdef&key="
                                           "000102030405060708090a0b0c0d0e0f"))
                .error()
                .code,
            ErrorCode::kAlreadyExists);
  SetNow("2013-08-08T12:40:00Z");
  auto grant = service_->AuthorizeToken(
      *anon_, P("uid=0123456789abcdef0123456789abcdef&timestamp=2013-08-08T12%3A34%3A56.789Z&"
                "signature=svxyJ%2BvNSeZnLEtHs02bVbrUNNSF6bd1c98pP9Iq0FA%3D"));
  ASSERT_TRUE(grant.has_value()) << grant.error().message;
  EXPECT_EQ(grant->request.session_name, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(grant->request.duration, seconds(86400));
  EXPECT_NE(grant->request.policy.find("b/0123456789abcdef0123456789abcdef/*"), std::string::npos);
  random_.Push(*HexDecode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"));
  auto body = service_->SealToken(grant->device_key, VectorCredentials(1376051696000));
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body,
            "oKGio6SlpqeoqaqrrK2ur1eyLEmqyptROe57RKJQQ9hRssT+Wz5KnQQ45JjAKfXyC/f455YaHj9iqQ8uev0/"
            "8Nj3+W88dTtifGL23yn0HQrhAGzjTEI02bRDMTz41HiPoSwR/PT8qT6tr0PMVMMfFkMPCKDnOio+9vM96dq7"
            "AjKZAMj5ivkDdvk1X9SJ+k1FWoXNCgQZjBM+A5KngqG4JNnXppSUzRzrKAGwK/65g6A8XTmw8fv3Go/"
            "gWvcEOUPkQs8RrKvv6y9olhesyjyvFg==");
}

TEST_F(LegacyServiceTest, RevokedAndExpiredDevicesGetNothing) {
  const char* reg = "uid=0123456789abcdef0123456789abcdef&key=000102030405060708090a0b0c0d0e0f";
  const char* token =
      "uid=0123456789abcdef0123456789abcdef&timestamp=2013-08-08T12%3A34%3A56.789Z&"
      "signature=svxyJ%2BvNSeZnLEtHs02bVbrUNNSF6bd1c98pP9Iq0FA%3D";
  SetNow("2013-08-08T12:30:00Z");  // registered now
  ASSERT_TRUE(service_->RegisterDevice(*anon_, P(reg)));
  SetNow("2013-08-08T12:40:00Z");
  ASSERT_TRUE(service_->AuthorizeToken(*anon_, P(token)));
  // Too old for an app that limits device age to 0.005 days (7 min 12 s).
  App strict = *anon_;
  strict.config.max_device_age = seconds(432);
  EXPECT_THAT(service_->AuthorizeToken(strict, P(token)), ErrorIs(ErrorCode::kUnauthenticated));
  ASSERT_TRUE(store_->RevokeDevice("anon", "0123456789abcdef0123456789abcdef"));
  auto revoked = service_->AuthorizeToken(*anon_, P(token));
  ASSERT_FALSE(revoked);
  EXPECT_THAT(revoked, ErrorIs(ErrorCode::kUnauthenticated));
  EXPECT_THAT(service_->RegisterDevice(*anon_, P(reg)), ErrorIs(ErrorCode::kAlreadyExists));
}

TEST_F(LegacyServiceTest, AnonymousBadInputs) {
  auto code = [&](const std::string& q) {
    auto r = service_->RegisterDevice(*anon_, P(q));
    return r ? std::optional<ErrorCode>() : r.error().code;
  };
  EXPECT_EQ(code("key=000102030405060708090a0b0c0d0e0f"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("uid=%20%20&key=000102030405060708090a0b0c0d0e0f"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("uid=short&key=000102030405060708090a0b0c0d0e0f"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("uid=" + std::string(129, 'u') + "&key=000102030405060708090a0b0c0d0e0f"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("uid=" + std::string(32, 'u') + "&key=not-hex-not-hex-not-hex-not-hex"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("uid=" + std::string(32, 'u') + "&key=0001020304050607080910"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("uid=" + std::string(30, 'u') + "%FF%FE&key=000102030405060708090a0b0c0d0e0f"),
            ErrorCode::kInvalidArgument);
  // Surrounding whitespace is trimmed, as String.trim() did.
  EXPECT_FALSE(code("uid=%20" + std::string(32, 'v') + "%20&key=000102030405060708090a0b0c0d0e0f"));

  ASSERT_TRUE(service_->RegisterDevice(
      *anon_, P("uid=0123456789abcdef0123456789abcdef&key=000102030405060708090a0b0c0d0e0f")));
  auto token = [&](const std::string& q) {
    auto r = service_->AuthorizeToken(*anon_, P(q));
    return r ? std::optional<ErrorCode>() : r.error().code;
  };
  SetNow("2013-08-08T12:34:56Z");
  std::string uid = "uid=0123456789abcdef0123456789abcdef";
  std::string ts = "&timestamp=2013-08-08T12%3A34%3A56.789Z";
  std::string sig = "&signature=svxyJ%2BvNSeZnLEtHs02bVbrUNNSF6bd1c98pP9Iq0FA%3D";
  EXPECT_FALSE(token(uid + ts + sig));
  EXPECT_EQ(token(ts + sig), ErrorCode::kInvalidArgument);
  EXPECT_EQ(token(uid + ts), ErrorCode::kInvalidArgument);
  EXPECT_EQ(token(uid + sig), ErrorCode::kInvalidArgument);
  EXPECT_EQ(token(uid + "&timestamp=yesterday" + sig), ErrorCode::kStaleRequest);
  EXPECT_EQ(token("uid=nobody-nobody-nobody-nobody" + ts + sig), ErrorCode::kUnauthenticated);
  EXPECT_EQ(token(uid + ts + "&signature=svxyJ%2BvNSeZnLEtHs02bVbrUNNSF6bd1c98pP9Iq0FB%3D"),
            ErrorCode::kUnauthenticated);
  // An unencoded '+' decodes to a space: the signature no longer matches.
  EXPECT_EQ(token(uid + ts + "&signature=svxyJ+vNSeZnLEtHs02bVbrUNNSF6bd1c98pP9Iq0FA%3D"),
            ErrorCode::kUnauthenticated);
  // The window is +-15 minutes, inclusive, and checked before the device lookup.
  SetNow("2013-08-08T12:49:56.789Z");
  EXPECT_FALSE(token(uid + ts + sig));
  SetNow("2013-08-08T12:49:56.790Z");
  EXPECT_EQ(token(uid + ts + sig), ErrorCode::kStaleRequest);
  EXPECT_EQ(token("uid=nobody-nobody-nobody-nobody" + ts + sig), ErrorCode::kStaleRequest);
  SetNow("2013-08-08T12:19:56.789Z");
  EXPECT_FALSE(token(uid + ts + sig));
}

TEST_F(LegacyServiceTest, Tv2IdentityRegisterLoginAndGetToken) {
  ASSERT_TRUE(service_->RegisterUser(*ident_, P("username=alice&password=secret123")));
  EXPECT_THAT(service_->RegisterUser(*ident_, P("username=alice&password=other123")),
              ErrorIs(ErrorCode::kAlreadyExists));
  EXPECT_EQ(store_->FindUser("ident", "alice")->password_hash.Reveal(),
            "865117dbfaf09cd410aae028844adfdf5d2d0400c9f0c114c6616025d3b50273");

  SetNow("2013-08-08T12:34:56Z");
  random_.Push(*HexDecode("00112233445566778899aabbccddeeff"));  // the new device key
  random_.Push(*HexDecode("101112131415161718191a1b1c1d1e1f"));  // the IV
  auto login = service_->Login(
      *ident_, P("uid=fedcba9876543210fedcba9876543210&username=alice&timestamp=2013-08-08T12%"
                 "3A34%3A56Z&signature="
                 "4512c715d614d6b8809090ff908981be61a89e442314b5174cec3307a9047bff"));
  ASSERT_TRUE(login.has_value()) << login.error().message;
  EXPECT_EQ(*login,
            "EBESExQVFhcYGRobHB0eHwd97QxZDILlXXw8PNbVZqFhuorUvKmyYhU67pb7g6okWvvK2d6cDnbhX0K3lq24Dg"
            "==");

  SetNow("2013-08-08T12:35:10Z");
  auto grant = service_->AuthorizeToken(
      *ident_, P("uid=fedcba9876543210fedcba9876543210&timestamp=2013-08-08T12%3A35%3A10.000Z&"
                 "signature=4edfeaf4f6bbdf72fdc21ff47ebd0e9728cf0897f57253e2a13ca96cacc87592"));
  ASSERT_TRUE(grant.has_value()) << grant.error().message;
  EXPECT_EQ(grant->request.session_name, "alice");
  EXPECT_EQ(*grant->request.username, "alice");
  random_.Push(Bytes(16, 0));
  auto body = service_->SealToken(grant->device_key, VectorCredentials(1376051710000));
  ASSERT_TRUE(body.has_value());
  EXPECT_TRUE(body->starts_with("AAAAAAAAAAAAAAAAAAAAAOq3gRYfcUB9jtqOMZjpnClFHndIpnVEgjOF"));
  EXPECT_TRUE(body->ends_with("4scEgQna2c+7lsJ4l85hE6WUV0MzTg=="));
}

TEST_F(LegacyServiceTest, IdentityLoginRotatesKeysAndGuardsDevices) {
  ASSERT_TRUE(service_->RegisterUser(*ident_, P("username=alice&password=secret123")));
  ASSERT_TRUE(service_->RegisterUser(*ident_, P("username=bob&password=hunter22")));
  std::string alice_hash(store_->FindUser("ident", "alice")->password_hash.Reveal());
  std::string bob_hash(store_->FindUser("ident", "bob")->password_hash.Reveal());
  SetNow("2013-08-08T12:34:56Z");
  std::string ts = "2013-08-08T12:34:56Z";
  auto login = [&](const std::string& user, const std::string& hash, const std::string& uid) {
    return service_->Login(*ident_,
                           P("uid=" + uid + "&username=" + user + "&timestamp=" + ts +
                             "&signature=" + protocol::legacy::Sign(Mode::kIdentity, hash, ts)));
  };
  auto first = login("alice", alice_hash, "device-1");
  ASSERT_TRUE(first.has_value());
  auto key1 = protocol::legacy::Unwrap(*first, alice_hash.substr(0, 32));
  // The same login again (a captured URL replayed within the window) is refused, and so
  // does not rotate the phone's key; the phone's next login has a fresh timestamp.
  auto replayed = login("alice", alice_hash, "device-1");
  ASSERT_FALSE(replayed.has_value());
  EXPECT_THAT(replayed, ErrorIs(ErrorCode::kUnauthenticated));
  ts = "2013-08-08T12:34:57Z";
  auto second = login("alice", alice_hash, "device-1");
  ASSERT_TRUE(second.has_value()) << second.error().message;
  auto key2 = protocol::legacy::Unwrap(*second, alice_hash.substr(0, 32));
  ASSERT_TRUE(key1 && key2);
  EXPECT_NE(*key1, *key2);  // every login rotates the key
  EXPECT_TRUE(key2->starts_with("{\tkey: \""));
  // Bob replaying onto alice's device: 500 (kFailedPrecondition), as in 2012.
  EXPECT_THAT(login("bob", bob_hash, "device-1"), ErrorIs(ErrorCode::kFailedPrecondition));
  // Wrong password hash, unknown user: 401.
  EXPECT_THAT(login("alice", bob_hash, "device-2"), ErrorIs(ErrorCode::kUnauthenticated));
  EXPECT_THAT(login("carol", bob_hash, "device-2"), ErrorIs(ErrorCode::kUnauthenticated));
  // Missing parameters in the 2012 order, then an over-long uid.
  EXPECT_THAT(service_->Login(*ident_, P("uid=x&timestamp=" + ts)),
              ErrorIs(ErrorCode::kInvalidArgument));
  EXPECT_THAT(login("alice", alice_hash, std::string(200, 'x')),
              ErrorIs(ErrorCode::kInvalidArgument));

  // Disabled or deleted users: their devices get 401, not 500.
  std::string device_key = key2->substr(8, 32);
  auto token = [&] {
    return service_->AuthorizeToken(
        *ident_, P("uid=device-1&timestamp=" + ts +
                   "&signature=" + protocol::legacy::Sign(Mode::kIdentity, device_key, ts)));
  };
  ASSERT_TRUE(token().has_value());
  ASSERT_TRUE(store_->SetUserEnabled("ident", "alice", false));
  EXPECT_THAT(token(), ErrorIs(ErrorCode::kUnauthenticated));
  EXPECT_THAT(login("alice", alice_hash, "device-1"), ErrorIs(ErrorCode::kUnauthenticated));
  ASSERT_TRUE(store_->SetUserEnabled("ident", "alice", true));
  ASSERT_TRUE(token().has_value());
  ASSERT_TRUE(store_->DeleteUser("ident", "alice"));
  EXPECT_THAT(token(), ErrorIs(ErrorCode::kUnauthenticated));
}

TEST_F(LegacyServiceTest, RegisterUserValidation) {
  auto code = [&](const std::string& q) {
    auto r = service_->RegisterUser(*ident_, P(q));
    return r ? std::optional<ErrorCode>() : r.error().code;
  };
  EXPECT_TRUE(LegacyService::MissingUserParams(P("username=alice")));
  EXPECT_TRUE(LegacyService::MissingUserParams(P("username=alice&password=%20")));
  EXPECT_EQ(code("username=al&password=secret123"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("username=alice&password=short"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("username=al%20ice&password=secret123"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("username=alice%FF&password=secret123"), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(code("username=J%C3%BCrgen&password=secret123"));
  EXPECT_FALSE(code("username=a.b_c%40example.com&password=secret123"));
}

}  // namespace
}  // namespace vendo::server
