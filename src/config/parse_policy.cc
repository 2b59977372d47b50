#include "config/parse_policy.h"

#include "policy/template.h"

namespace vendo::server::config_reader {

void ParsePolicyTemplate(Checker& c, const toml::table& t, const std::string& p,
                         const std::string& base_dir, bool federated, bool required,
                         std::string& policy) {
  std::string policy_file;
  c.Read(t, "policy", p + "policy", policy);
  c.Read(t, "policy_file", p + "policy_file", policy_file);
  if (!policy_file.empty()) {
    if (!policy.empty()) {
      c.Problem(p + "policy_file", "set either policy or policy_file, not both");
    }
    std::string path = Resolve(base_dir, policy_file);
    bool ok = false;
    policy = ReadFile(path, ok);
    if (!ok) {
      c.Problem(p + "policy_file", "cannot read " + path);
      return;
    }
  }
  std::string key = p + (policy_file.empty() ? "policy" : "policy_file");
  if (policy.empty()) {
    if (required) {
      c.Problem(p + "policy", "required: the policy template to vend (policy or policy_file)");
    }
  } else if (auto tmpl = policy::Template::Parse(policy); !tmpl) {
    c.Problem(key, tmpl.error().message);
  } else if (!federated && !tmpl->Claims().empty()) {
    c.Problem(key, "${claim:" + tmpl->Claims()[0] +
                       "}: claims are only known in federated apps (mode = \"federated\")");
  }
}

}  // namespace vendo::server::config_reader
