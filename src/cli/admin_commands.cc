// `vendo device ...` and `vendo user ...`: operators' changes to the configured store, each
// recorded in the audit log. The server sees them within store.cache_ttl_ms (1 s).
#include <cstdio>
#include <ctime>

#include "cli/commands.h"
#include "cli/store_open.h"
#include "common/clock.h"
#include "common/random.h"
#include "crypto/secret_box.h"
#include "server/audit.h"

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
  if (s->cfg.FindApp(o.app) == nullptr) {
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
  auto opened = OpenStore(
      {s->cfg.store.location, s->cfg.store.password_file, s->cfg.store.group_commit_max_batch, 1},
      *s->box, s->clock);
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

std::string Date(std::int64_t seconds) {
  std::time_t t = seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
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
  std::printf("%s: done\n", std::string(action).c_str());
  return 0;
}

}  // namespace

int DeviceList(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  store::RowKey after{o.app, ""};
  std::size_t shown = 0;
  std::printf("%-40s %-20s %-20s %s\n", "uid", "user id", "registered", "state");
  while (shown < o.limit) {
    auto page = s->store.rows->DevicesAfter(after, std::min<std::size_t>(1000, o.limit - shown));
    if (!page) {
      std::fprintf(stderr, "vendo: %s\n", page.error().message.c_str());
      return 1;
    }
    for (const auto& d : *page) {
      if (d.app != o.app) {
        return 0;  // past this app's rows
      }
      std::printf("%-40s %-20s %-20s %s\n", d.uid.c_str(), d.user_id.value_or("-").c_str(),
                  Date(d.created_at).c_str(),
                  d.revoked_at ? ("revoked " + Date(*d.revoked_at)).c_str() : "active");
      ++shown;
    }
    if (page->empty() || page->size() < 1000) {
      break;
    }
    after = {page->back().app, page->back().uid};
  }
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

int UserList(const AdminOptions& o) {
  int code = 0;
  auto s = Open(o, code);
  if (!s) {
    return code;
  }
  store::RowKey after{o.app, ""};
  std::printf("%-40s %-34s %-20s %s\n", "username", "user id", "registered", "state");
  std::size_t shown = 0;
  while (shown < o.limit) {
    auto page = s->store.rows->UsersAfter(after, std::min<std::size_t>(1000, o.limit - shown));
    if (!page) {
      std::fprintf(stderr, "vendo: %s\n", page.error().message.c_str());
      return 1;
    }
    for (const auto& u : *page) {
      if (u.app != o.app) {
        return 0;
      }
      std::printf("%-40s %-34s %-20s %s\n", u.username.c_str(), u.user_id.c_str(),
                  Date(u.created_at).c_str(), u.enabled ? "enabled" : "disabled");
      ++shown;
    }
    if (page->empty() || page->size() < 1000) {
      break;
    }
    after = {page->back().app, page->back().username};
  }
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

}  // namespace vendo::cli
