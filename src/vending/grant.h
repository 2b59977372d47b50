// What a known device that proved itself may be given: the issuer request (principal, session
// name, rendered policy, duration), after the checks both protocols share. The device is
// refused (kPermissionDenied, with the reason) when it is revoked or older than the app's
// max_device_age, or when its user (identity apps) is gone or disabled.
#pragma once

#include "common/clock.h"
#include "issuer/issuer.h"
#include "store/store.h"
#include "vending/app.h"

namespace vendo::server {

[[nodiscard]] Result<issuer::IssueRequest> GrantFor(const App& app,
                                                    const store::DeviceRecord& device,
                                                    store::Store& store, const Clock& clock);

}  // namespace vendo::server
