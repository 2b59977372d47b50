// ParseApp: reads one [apps.NAME] table of the configuration into an AppConfig.
#pragma once

#include <string>

#include "config/app_config.h"
#include "config/toml_reader.h"

namespace vendo::server::config_reader {

// Fills `app` from `t` (the table of app `name`); relative file names are taken from
// `base_dir`. Each problem goes to `c` under its dotted key.
void ParseApp(Checker& c, const std::string& name, const toml::table& t,
              const std::string& base_dir, AppConfig& app);

}  // namespace vendo::server::config_reader
