// ParseIdentityProviders: reads a federated app's [[apps.NAME.identity_providers]] tables.
#pragma once

#include <string>

#include "config/app_config.h"
#include "config/toml_reader.h"

namespace vendo::server::config_reader {

// Fills app.identity_providers from `t` (the app's table); `p` is "apps.NAME.". A federated
// app needs at least one provider, and only a federated app may have any.
void ParseIdentityProviders(Checker& c, const toml::table& t, const std::string& p,
                            const std::string& base_dir, AppConfig& app);

}  // namespace vendo::server::config_reader
