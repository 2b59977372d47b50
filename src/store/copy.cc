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

Result<CopyReport> CopyRows(RowAccess& from, RowAccess& to, std::size_t batch) {
  CopyReport report;
  // Users first: a device row names its user.
  VENDO_RETURN_IF_ERROR(
      ForEachPage([&](const RowKey& a, std::size_t n) { return from.UsersAfter(a, n); }, batch,
                  [&](const std::vector<UserRow>& page) -> Status {
                    auto n = to.InsertUsers(page);
                    if (!n) {
                      return std::unexpected(n.error());
                    }
                    report.users_copied += *n;
                    return {};
                  }));
  VENDO_RETURN_IF_ERROR(
      ForEachPage([&](const RowKey& a, std::size_t n) { return from.DevicesAfter(a, n); }, batch,
                  [&](const std::vector<DeviceRow>& page) -> Status {
                    auto n = to.InsertDevices(page);
                    if (!n) {
                      return std::unexpected(n.error());
                    }
                    report.devices_copied += *n;
                    return {};
                  }));
  for (auto [digest, out] : {std::pair{&DigestDevices, std::pair{&from, &report.source_devices}},
                             std::pair{&DigestDevices, std::pair{&to, &report.target_devices}},
                             std::pair{&DigestUsers, std::pair{&from, &report.source_users}},
                             std::pair{&DigestUsers, std::pair{&to, &report.target_users}}}) {
    auto d = digest(*out.first, batch);
    if (!d) {
      return std::unexpected(d.error());
    }
    *out.second = *d;
  }
  return report;
}

}  // namespace vendo::store
