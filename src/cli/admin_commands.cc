// The admin commands on the configured store: `vendo device|user|app ...` and `vendo stats`.
// Changes are recorded in the audit log; running servers see them within store.cache_ttl_ms
// (1 s). Lists page through the store (1000 rows at a time) and print as they read. Their
// options, help and dispatch are in admin_cli.cc.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/admin_output.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "cli/password_input.h"
#include "cli/store_open.h"
#include "common/clock.h"
#include "common/random.h"
#include "crypto/password.h"
#include "crypto/secret_box.h"
#include "protocol/legacy.h"
#include "protocol/timestamp.h"
#include "protocol/validate.h"
#include "vending/audit.h"

namespace vendo::cli {
namespace {

// What every admin command opens: the config's store, its audit log.
struct AdminSession {
  server::Config cfg;
  SystemClock clock;
  OsRandom random;
  std::unique_ptr<crypto::SecretBox> box;
  OpenedStore store;
  std::unique_ptr<server::AuditSink> sink;
  std::unique_ptr<server::AuditLog> audit;
};

// Returns nullptr after printing why (exit 2 for a bad config or app, else 1).
std::unique_ptr<AdminSession> Open(const AdminOptions& o, int& exit_code) {
  auto s = std::make_unique<AdminSession>();
  auto cfg = LoadConfigOrReport(o.config_file);
  exit_code = 2;
  if (!cfg) {
    return nullptr;
  }
  s->cfg = std::move(*cfg);
  if (!o.app.empty() && s->cfg.FindApp(o.app) == nullptr) {
    std::fprintf(stderr, "vendo: no app named \"%s\" in %s\n", o.app.c_str(),
                 o.config_file.c_str());
    return nullptr;
  }
  exit_code = 1;
  auto key = crypto::LoadMasterKey(s->cfg.store.master_key_file);
  if (!key) {
    std::fprintf(stderr, "vendo: %s\n", key.error().message.c_str());
    return nullptr;
  }
  s->box = std::make_unique<crypto::SecretBox>(std::move(*key), s->random);
  StoreSettings settings = StoreSettingsOf(s->cfg.store);
  settings.max_connections = 1;
  auto opened = OpenStore(settings, *s->box, s->clock);
  if (!opened) {
    std::fprintf(stderr, "vendo: store %s: %s\n", s->cfg.store.location.Display().c_str(),
                 opened.error().message.c_str());
    return nullptr;
  }
  s->store = std::move(*opened);
  auto sink = server::OpenAuditSink(s->cfg.audit.file);
  if (!sink) {
    std::fprintf(stderr, "vendo: %s\n", sink.error().message.c_str());
    return nullptr;
  }
  s->sink = std::move(*sink);
  s->audit = std::make_unique<server::AuditLog>(*s->sink, s->clock);
  exit_code = 0;
  return s;
}

// A store timestamp (seconds since the epoch), as RFC 3339 UTC.
std::string Date(std::int64_t seconds) {
  return protocol::IsoSeconds(protocol::TimePoint(std::chrono::seconds(seconds)));
}

// Runs `change`, audits it as `action` on behalf of the operator, and reports.
int Change(AdminSession& s, const AdminOptions& o, std::string_view action, const Status& done,
           std::string_view device, std::string_view user) {
  server::AuditEvent event{
      .action = action,
      .outcome = done ? std::string_view("ok") : ErrorCodeName(done.error().code),
      .app = o.app,
      .request_id = "admin",
      .client = "vendo-cli",
      .device = device,
      .user = user};
  auto audited = s.audit->Record(event);
  if (!done) {
    std::fprintf(stderr, "vendo: %s: %s\n", std::string(action).c_str(),
                 done.error().message.c_str());
    return 1;
  }
  if (!audited) {
    std::fprintf(stderr, "vendo: done, but the audit log could not be written: %s\n",
                 audited.error().message.c_str());
    return 1;
  }
  if (!o.json) {
    std::printf("%s: done\n", std::string(action).c_str());
  } else {
    std::printf("{\"action\":\"%s\",\"outcome\":\"ok\"}\n", std::string(action).c_str());
  }
  return 0;
}

boost::json::value Optional(const std::optional<std::string>& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}

boost::json::object DeviceJson(const store::DeviceRow& d) {
  return {{"uid", d.uid},
          {"user_id", Optional(d.user_id)},
          {"registered", Date(d.created_at)},
          {"state", d.revoked_at ? "revoked" : "active"},
          {"revoked",
           d.revoked_at ? boost::json::value(Date(*d.revoked_at)) : boost::json::value(nullptr)}};
}

boost::json::object UserJson(const store::UserRow& u) {
  return {{"username", u.username},
          {"user_id", u.user_id},
          {"registered", Date(u.created_at)},
          {"state", u.enabled ? "enabled" : "disabled"}};
}

// Calls `each` on an app's device rows in uid order, after `after`, at most `limit`; pages
// through the store. Returns false (having said why) if the store fails.
template <class Each>
bool ForEachDevice(AdminSession& s, const std::string& app, const std::string& after,
                   std::size_t limit, Each&& each) {
  store::RowKey at{app, after};
  std::size_t seen = 0;
  while (seen < limit) {
    auto page = s.store.rows->DevicesAfter(at, std::min<std::size_t>(1000, limit - seen));
    if (!page) {
      std::fprintf(stderr, "vendo: %s\n", page.error().message.c_str());
      return false;
    }
    for (const auto& d : *page) {
      if (d.app != app) {
        return true;  // past this app's rows
      }
      each(d);
      ++seen;
    }
    if (page->size() < 1000) {
      return true;
    }
    at = {page->back().app, page->back().uid};
  }
  return true;
}

template <class Each>
bool ForEachUser(AdminSession& s, const std::string& app, const std::string& after,
                 std::size_t limit, Each&& each) {
  store::RowKey at{app, after};
  std::size_t seen = 0;
  while (seen < limit) {
    auto page = s.store.rows->UsersAfter(at, std::min<std::size_t>(1000, limit - seen));
    if (!page) {
      std::fprintf(stderr, "vendo: %s\n", page.error().message.c_str());
      return false;
    }
    for (const auto& u : *page) {
      if (u.app != app) {
        return true;
      }
      each(u);
      ++seen;
    }
    if (page->size() < 1000) {
      return true;
    }
    at = {page->back().app, page->back().username};
  }
  return true;
}

std::int64_t NowMinute(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::minutes>(clock.Now().time_since_epoch()).count();
}

}  // namespace

int DeviceList(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  ListOutput out(o.json, {{"uid", "UID", 36},
                          {"user_id", "USER ID", 34},
                          {"registered", "REGISTERED", 22},
                          {"state", "STATE", 8}});
  std::string last;
  bool ok = ForEachDevice(*s, o.app, o.after, o.limit, [&](const store::DeviceRow& d) {
    out.Row(DeviceJson(d));
    last = d.uid;
  });
  if (ok && out.rows() == o.limit && !o.json) {
    std::fprintf(stderr, "(first %zu shown; more with --after %s)\n", o.limit, last.c_str());
  }
  return ok ? 0 : 1;
}

int DeviceShow(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  auto device = s->store.store->FindDevice(o.app, o.uid);
  if (!device) {
    std::fprintf(stderr, "vendo: device %s: %s\n", o.uid.c_str(), device.error().message.c_str());
    return 1;
  }
  boost::json::object record{{"app", o.app},
                             {"uid", device->uid},
                             {"registered", Date(device->created_at)},
                             {"state", device->revoked ? "revoked" : "active"},
                             {"user_id", Optional(device->user_id)},
                             {"username", nullptr}};
  if (device->user_id) {
    if (auto user = s->store.store->FindUserById(o.app, *device->user_id)) {
      record["username"] = user->username;
    }
  }
  PrintRecord(o.json, record);
  return 0;
}

int DeviceRevoke(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  return Change(*s, o, "revoke_device", s->store.store->RevokeDevice(o.app, o.uid), o.uid, "");
}

int UserAdd(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  const server::AppConfig& app = *s->cfg.FindApp(o.app);
  if (app.mode != protocol::legacy::Mode::kIdentity) {
    std::fprintf(stderr, "vendo: app %s is anonymous: it has devices, not users\n", o.app.c_str());
    return 2;
  }
  auto password = ReadPassword(o.password_file);
  if (!password) {
    std::fprintf(stderr, "vendo: no password (give --password-file, or one line on stdin)\n");
    return 2;
  }
  bool legacy = o.protocol == "2012";
  if (!protocol::IsValidUsername(o.username) ||
      (legacy ? !protocol::IsValidPassword(*password) : !protocol::IsValidV2Password(*password))) {
    OPENSSL_cleanse(password->data(), password->size());
    const auto& rule = legacy ? protocol::kLegacyPasswordRule : protocol::kV2PasswordRule;
    std::fprintf(stderr, "vendo: usernames are %.*s; %s passwords are %.*s\n",
                 static_cast<int>(protocol::kUsernameRule.hint.size()),
                 protocol::kUsernameRule.hint.data(), legacy ? "2012" : "v2",
                 static_cast<int>(rule.hint.size()), rule.hint.data());
    return 2;
  }
  // 2012 users keep the salted hash the 2012 login checks; v2 users an argon2id hash.
  Result<std::string> hash = legacy ? Result<std::string>(protocol::legacy::SaltedPasswordHash(
                                          *password, o.username, app.app_name,
                                          protocol::legacy::NormalizeEndpoint(app.public_endpoint)))
                                    : crypto::HashPassword(*password, app.argon2, s->random);
  OPENSSL_cleanse(password->data(), password->size());
  if (!hash) {
    std::fprintf(stderr, "vendo: %s\n", hash.error().message.c_str());
    return 1;
  }
  Status done = s->store.store->CreateUser(o.app, o.username, s->random.Hex(16),
                                           SecretString(std::move(*hash)));
  return Change(*s, o, "add_user", done, "", o.username);
}

int UserList(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  ListOutput out(o.json, {{"username", "USERNAME", 32},
                          {"user_id", "USER ID", 34},
                          {"registered", "REGISTERED", 22},
                          {"state", "STATE", 9}});
  std::string last;
  bool ok = ForEachUser(*s, o.app, o.after, o.limit, [&](const store::UserRow& u) {
    out.Row(UserJson(u));
    last = u.username;
  });
  if (ok && out.rows() == o.limit && !o.json) {
    std::fprintf(stderr, "(first %zu shown; more with --after %s)\n", o.limit, last.c_str());
  }
  return ok ? 0 : 1;
}

int UserShow(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  auto user = s->store.store->FindUser(o.app, o.username);
  if (!user) {
    std::fprintf(stderr, "vendo: user %s: %s\n", o.username.c_str(), user.error().message.c_str());
    return 1;
  }
  // The user's devices only, a page at a time, through the devices_by_user index.
  boost::json::array devices;
  std::string after;
  for (;;) {
    constexpr std::size_t kPage = 1000;
    auto page = s->store.rows->UserDevicesAfter(o.app, user->user_id, after, kPage);
    if (!page) {
      std::fprintf(stderr, "vendo: %s\n", page.error().message.c_str());
      return 1;
    }
    for (const auto& d : *page) {
      devices.push_back(boost::json::value(d.uid + (d.revoked_at ? " (revoked)" : "")));
    }
    if (page->size() < kPage) {
      break;
    }
    after = page->back().uid;
  }
  PrintRecord(o.json, {{"app", o.app},
                       {"username", user->username},
                       {"user_id", user->user_id},
                       {"state", user->enabled ? "enabled" : "disabled"},
                       {"devices", std::move(devices)}});
  return 0;
}

int UserChange(const AdminOptions& o, std::string_view what) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  Status done = what == "delete"   ? s->store.store->DeleteUser(o.app, o.username)
                : what == "enable" ? s->store.store->SetUserEnabled(o.app, o.username, true)
                                   : s->store.store->SetUserEnabled(o.app, o.username, false);
  std::string action = std::string(what) + "_user";
  return Change(*s, o, action, done, "", o.username);
}

int AppList(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  ListOutput out(o.json, {{"app", "APP", 20},
                          {"mode", "MODE", 11},
                          {"issuer", "ISSUER", 17},
                          {"duration_seconds", "DURATION", 10},
                          {"devices", "DEVICES", 9},
                          {"users", "USERS", 7}});
  for (const auto& app : s->cfg.apps) {
    bool identity = app.mode == protocol::legacy::Mode::kIdentity;
    auto devices = s->store.store->CountDevices(app.name);
    auto users = identity ? s->store.store->CountUsers(app.name) : Result<std::int64_t>(0);
    if (!devices || !users) {
      std::fprintf(stderr, "vendo: %s\n",
                   (!devices ? devices.error() : users.error()).message.c_str());
      return 1;
    }
    out.Row({{"app", app.name},
             {"mode", identity ? "identity" : "anonymous"},
             {"issuer", app.issuer},
             {"duration_seconds", app.duration.count()},
             {"devices", *devices},
             {"users", identity ? boost::json::value(*users) : boost::json::value(nullptr)}});
  }
  return 0;
}

int Stats(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  std::int64_t now = NowMinute(s->clock);
  ListOutput out(o.json, {{"app", "APP", 20},
                          {"devices", "DEVICES", 9},
                          {"users", "USERS", 7},
                          {"registrations_1h", "REG 1H", 8},
                          {"registrations_24h", "REG 24H", 9},
                          {"vends_1h", "VENDS 1H", 10},
                          {"vends_24h", "VENDS 24H", 10}});
  for (const auto& app : s->cfg.apps) {
    if (!o.app.empty() && app.name != o.app) {
      continue;
    }
    bool identity = app.mode == protocol::legacy::Mode::kIdentity;
    auto devices = s->store.store->CountDevices(app.name);
    auto users = identity ? s->store.store->CountUsers(app.name) : Result<std::int64_t>(0);
    auto hour = s->store.store->ActivitySince(app.name, now - 59);
    auto day = s->store.store->ActivitySince(app.name, now - std::int64_t{24} * 60 + 1);
    for (const Error* e : {devices ? nullptr : &devices.error(), users ? nullptr : &users.error(),
                           hour ? nullptr : &hour.error(), day ? nullptr : &day.error()}) {
      if (e != nullptr) {
        std::fprintf(stderr, "vendo: %s\n", e->message.c_str());
        return 1;
      }
    }
    out.Row({{"app", app.name},
             {"devices", *devices},
             {"users", identity ? boost::json::value(*users) : boost::json::value(nullptr)},
             {"registrations_1h", hour->registrations},
             {"registrations_24h", day->registrations},
             {"vends_1h", hour->vends},
             {"vends_24h", day->vends}});
  }
  return 0;
}

}  // namespace vendo::cli
