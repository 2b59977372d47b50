#include "store/copy.h"

#include <openssl/evp.h>

#include <memory>

#include "common/encoding.h"

namespace vendo::store {
namespace {

// SHA-256 over a stream of fields, each length-prefixed so that no two rows can run together.
class Hasher {
 public:
  Hasher() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr);
  }
  Hasher& Field(std::string_view s) {
    std::string len = std::to_string(s.size()) + ":";
    EVP_DigestUpdate(ctx_.get(), len.data(), len.size());
    EVP_DigestUpdate(ctx_.get(), s.data(), s.size());
    return *this;
  }
  Hasher& Nullable(const std::optional<std::string>& s) {
    return s ? Field("v").Field(*s) : Field("null");
  }
  Hasher& Number(std::int64_t v) { return Field(std::to_string(v)); }
  std::string Hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), out, &n);
    return HexEncode(std::span<const std::uint8_t>(out, n));
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

void HashRow(Hasher& h, const DeviceRow& d) {
  h.Field(d.app).Field(d.uid).Field(d.key_sealed).Nullable(d.user_id);
  h.Number(d.created_at).Number(d.updated_at);
  h.Nullable(d.revoked_at ? std::optional<std::string>(std::to_string(*d.revoked_at))
                          : std::nullopt);
  h.Nullable(d.claims_sealed);
}
void HashRow(Hasher& h, const UserRow& u) {
  h.Field(u.app).Field(u.username).Field(u.user_id).Field(u.password_sealed);
  h.Number(u.enabled ? 1 : 0).Number(u.created_at);
}
RowKey KeyOf(const DeviceRow& d) { return {d.app, d.uid}; }
RowKey KeyOf(const UserRow& u) { return {u.app, u.username}; }

// Calls `fn` with each page of rows from `scan`, in key order.
template <class Scan, class Fn>
Status ForEachPage(Scan&& scan, std::size_t batch, Fn&& fn) {
  RowKey after{"", ""};
  for (;;) {
    auto page = scan(after, batch);
    if (!page) {
      return std::unexpected(page.error());
    }
    if (page->empty()) {
      return {};
    }
    VENDO_RETURN_IF_ERROR(fn(*page));
    after = KeyOf(page->back());
    if (page->size() < batch) {
      return {};
    }
  }
}

template <class Scan>
Result<TableDigest> Digest(Scan&& scan, std::size_t batch) {
  Hasher h;
  TableDigest d;
  auto ok = ForEachPage(scan, batch, [&](const auto& page) -> Status {
    for (const auto& row : page) {
      HashRow(h, row);
    }
    d.rows += static_cast<std::int64_t>(page.size());
    return {};
  });
  if (!ok) {
    return std::unexpected(ok.error());
  }
  d.sha256 = h.Hex();
  return d;
}

}  // namespace

Result<TableDigest> DigestDevices(RowAccess& store, std::size_t batch) {
  return Digest([&](const RowKey& a, std::size_t n) { return store.DevicesAfter(a, n); }, batch);
}

Result<TableDigest> DigestUsers(RowAccess& store, std::size_t batch) {
  return Digest([&](const RowKey& a, std::size_t n) { return store.UsersAfter(a, n); }, batch);
}

Result<CopyReport> CopyRows(RowAccess& from, RowAccess& to, std::size_t batch,
                            const CopyProgress& progress) {
  auto tell = [&](std::string_view step, std::int64_t rows, bool done) {
    if (progress) {
      progress(step, rows, done);
    }
  };
  CopyReport report;
  // Users first: a device row names its user.
  std::int64_t read = 0;
  VENDO_RETURN_IF_ERROR(
      ForEachPage([&](const RowKey& a, std::size_t n) { return from.UsersAfter(a, n); }, batch,
                  [&](const std::vector<UserRow>& page) -> Status {
                    auto n = to.InsertUsers(page);
                    if (!n) {
                      return std::unexpected(n.error());
                    }
                    report.users_copied += *n;
                    read += static_cast<std::int64_t>(page.size());
                    tell("copying users", read, false);
                    return {};
                  }));
  tell("copying users", read, true);
  read = 0;
  VENDO_RETURN_IF_ERROR(
      ForEachPage([&](const RowKey& a, std::size_t n) { return from.DevicesAfter(a, n); }, batch,
                  [&](const std::vector<DeviceRow>& page) -> Status {
                    auto n = to.InsertDevices(page);
                    if (!n) {
                      return std::unexpected(n.error());
                    }
                    report.devices_copied += *n;
                    read += static_cast<std::int64_t>(page.size());
                    tell("copying devices", read, false);
                    return {};
                  }));
  tell("copying devices", read, true);
  struct Check {
    const char* step;
    Result<TableDigest> (*digest)(RowAccess&, std::size_t);
    RowAccess* store;
    TableDigest* out;
  };
  for (const Check& c :
       {Check{"verifying source devices", &DigestDevices, &from, &report.source_devices},
        Check{"verifying target devices", &DigestDevices, &to, &report.target_devices},
        Check{"verifying source users", &DigestUsers, &from, &report.source_users},
        Check{"verifying target users", &DigestUsers, &to, &report.target_users}}) {
    tell(c.step, 0, false);
    auto d = c.digest(*c.store, batch);
    if (!d) {
      return std::unexpected(d.error());
    }
    *c.out = *d;
    tell(c.step, d->rows, true);
  }
  return report;
}

}  // namespace vendo::store
