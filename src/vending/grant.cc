#include "vending/grant.h"

#include "issuer/session_name.h"
#include "policy/hash.h"
#include "vending/identity_scope.h"

namespace vendo::server {
namespace {

std::unexpected<Error> Refused(ErrorReason reason, std::string message) {
  return std::unexpected(Error{ErrorCode::kPermissionDenied, std::move(message), {}, reason});
}

Result<RenderedGrant> FederatedGrant(const App& app, const store::DeviceRecord& device,
                                     std::string_view username) {
  if (device.claims.empty()) {
    return Refused(ErrorReason::kClaimNotUsable, "the device was bound to no identity's claims");
  }
  auto kept = DecodeClaims(device.claims.Reveal());
  if (!kept) {
    return std::unexpected(kept.error());
  }
  return RenderIdentityScope(app, *kept, username, *device.user_id);
}

}  // namespace

Result<issuer::IssueRequest> GrantFor(const App& app, const store::DeviceRecord& device,
                                      store::Store& store, const Clock& clock) {
  if (device.revoked) {
    return Refused(ErrorReason::kDeviceRevoked, "the device is revoked");
  }
  if (app.config.max_device_age.count() > 0) {
    auto age = clock.Now() -
               std::chrono::system_clock::time_point(std::chrono::seconds(device.created_at));
    if (age > app.config.max_device_age) {
      return Refused(ErrorReason::kDeviceExpired, "the device is older than max_device_age_days");
    }
  }
  issuer::IssueRequest req;
  req.app = app.config.name;
  req.device_id = device.uid;
  req.duration = app.config.duration;
  if (app.config.mode == protocol::legacy::Mode::kIdentity || app.config.federated) {
    if (!device.user_id) {
      return Refused(ErrorReason::kNoUser, "the device belongs to no user");
    }
    auto user = store.FindUserById(app.config.name, *device.user_id);
    if (!user) {
      if (user.error().code == ErrorCode::kNotFound) {
        return Refused(ErrorReason::kUserGone, "the device's user no longer exists");
      }
      return std::unexpected(user.error());
    }
    if (!user->enabled) {
      return Refused(ErrorReason::kUserDisabled, "the device's user is disabled");
    }
    req.username = user->username;
  }
  // Keyed by every variable the templates may use; the rest is fixed per app.
  thread_local std::string key;  // a hit then allocates nothing for its key
  key.clear();
  key.append(device.uid).push_back('\0');
  key.append(req.username.value_or("")).push_back('\0');
  key.append(device.user_id.value_or(""));
  auto rendered = app.rendered->GetOrMake(key, [&]() -> Result<RenderedGrant> {
    if (app.config.federated) {
      // A device bound to a federated identity: scoped by the claims it was bound under (they
      // never change for the device, so its uid keys them).
      return FederatedGrant(app, device, req.username.value_or(""));
    }
    auto raw_name = issuer::ExpandName(
        app.config.SessionNameTemplate(),
        {app.config.name, device.uid, req.username.value_or(""), device.user_id.value_or("")});
    if (!raw_name) {
      return std::unexpected(raw_name.error());  // config load checked the template
    }
    auto rendered_policy = app.policy.Render({app.config.name,
                                              device.uid,
                                              req.username.value_or(""),
                                              device.user_id.value_or(""),
                                              app.config.aws.region,
                                              app.config.aws.account_id,
                                              "",
                                              {}});
    if (!rendered_policy) {
      return std::unexpected(rendered_policy.error());
    }
    std::string sha = policy::PolicyHash(*rendered_policy);
    return RenderedGrant{issuer::MakeSessionName(*raw_name, app.issuer->MaxSessionNameLength()),
                         std::move(*rendered_policy), std::move(sha)};
  });
  if (!rendered) {
    return std::unexpected(rendered.error());
  }
  req.session_name = std::move(rendered->session_name);
  req.policy = std::move(rendered->policy);
  req.policy_sha256 = std::move(rendered->policy_sha256);
  req.session_tags = std::move(rendered->session_tags);
  req.role_arn = std::move(rendered->role_arn);
  return req;
}

}  // namespace vendo::server
