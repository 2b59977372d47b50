// A policy template in a table: `policy` (inline) or `policy_file` (read now, relative to the
// configuration file), parsed so that a bad one fails at start-up (policy/template.h).
#pragma once

#include <string>

#include "config/toml_reader.h"

namespace vendo::server::config_reader {

// Reads `t`'s template into `policy` and checks it; `p` is the table's dotted prefix. Claims
// (${claim:NAME}) are taken only when `federated`. Absent: a problem when `required`, else
// `policy` stays empty.
void ParsePolicyTemplate(Checker& c, const toml::table& t, const std::string& p,
                         const std::string& base_dir, bool federated, bool required,
                         std::string& policy);

}  // namespace vendo::server::config_reader
