// One [apps.NAME] table read into an AppConfig, in named steps (one per group of keys);
// every problem is reported under its key, none stops the others from being found.
#include "config/parse_app.h"

#include <fstream>
#include <tuple>

#include "config/parse_policy.h"
#include "config/parse_providers.h"
#include "issuer/session_name.h"
#include "net/url.h"
#include "policy/template.h"

namespace vendo::server::config_reader {
namespace {

using protocol::legacy::Mode;

// An origin as browsers send it: scheme://host[:port], nothing more.
bool IsOrigin(std::string_view o) {
  std::string_view rest = o.starts_with("https://")  ? o.substr(8)
                          : o.starts_with("http://") ? o.substr(7)
                                                     : std::string_view{};
  return !rest.empty() && rest.find_first_of("/?#@ ") == std::string_view::npos;
}

bool IsValidAppName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

void ParseAws(Checker& c, const toml::table& t, const std::string& p, const std::string& issuer,
              const std::string& base_dir, AwsIssuerConfig& aws) {
  CheckUnknownKeys(
      c, t, p,
      {"region", "endpoint", "account_id", "role_arn", "external_id", "source_identity",
       "session_tags", "ca_file", "access_key_id", "secret_access_key_file", "profile",
       "deadline_ms", "max_attempts", "attempt_timeout_ms"});
  c.Read(t, "region", p + "region", aws.region);
  c.Read(t, "endpoint", p + "endpoint", aws.endpoint);
  c.Read(t, "account_id", p + "account_id", aws.account_id);
  c.Read(t, "role_arn", p + "role_arn", aws.role_arn);
  c.Read(t, "external_id", p + "external_id", aws.external_id);
  c.Read(t, "source_identity", p + "source_identity", aws.source_identity);
  c.Read(t, "session_tags", p + "session_tags", aws.session_tags);
  c.Read(t, "ca_file", p + "ca_file", aws.ca_file);
  c.Read(t, "access_key_id", p + "access_key_id", aws.access_key_id);
  c.Read(t, "secret_access_key_file", p + "secret_access_key_file", aws.secret_access_key_file);
  c.Read(t, "profile", p + "profile", aws.profile);
  ReadDuration(c, t, "deadline_ms", p + "deadline_ms", aws.deadline, 100, 120000);
  std::int64_t attempts = aws.max_attempts;
  c.Read(t, "max_attempts", p + "max_attempts", attempts);
  if (attempts < 1 || attempts > 10) {
    c.Problem(p + "max_attempts", "must be between 1 and 10");
  }
  aws.max_attempts = static_cast<int>(attempts);
  ReadDuration(c, t, "attempt_timeout_ms", p + "attempt_timeout_ms", aws.attempt_timeout, 100,
               120000);
  if (!t.contains("attempt_timeout_ms")) {
    aws.attempt_timeout = std::min(aws.attempt_timeout, aws.deadline);
  } else if (aws.attempt_timeout > aws.deadline) {
    c.Problem(p + "attempt_timeout_ms", "cannot be longer than deadline_ms");
  }

  if (aws.region.empty()) {
    c.Problem(p + "region", "required: the region STS requests are signed for");
  }
  if (!aws.endpoint.empty()) {
    if (auto url = net::ParseHttpUrl(aws.endpoint); !url) {
      c.Problem(p + "endpoint", url.error().message);
    } else if (url->path_and_query != "/") {
      c.Problem(p + "endpoint", "must be scheme://host[:port] with no path");
    }
  }
  if (issuer == "aws-assume-role" && aws.role_arn.rfind("arn:", 0) != 0) {
    c.Problem(p + "role_arn", "required for aws-assume-role: arn:aws:iam::ACCOUNT:role/NAME");
  }
  if (issuer == "aws-federation" &&
      (!aws.role_arn.empty() || !aws.external_id.empty() || !aws.source_identity.empty())) {
    c.Problem(p + "role_arn",
              "role_arn, external_id and source_identity are for aws-assume-role only");
  }
  if (auto ok = issuer::ExpandName(aws.source_identity, {}); !ok) {
    c.Problem(p + "source_identity", ok.error().message);
  }
  if (aws.access_key_id.empty() != aws.secret_access_key_file.empty()) {
    c.Problem(p + "access_key_id", "access_key_id and secret_access_key_file go together");
  }
  if (!aws.access_key_id.empty() && !aws.profile.empty()) {
    c.Problem(p + "profile", "set either a profile or access_key_id, not both");
  }
  if (!aws.secret_access_key_file.empty()) {
    aws.secret_access_key_file = Resolve(base_dir, aws.secret_access_key_file);
    if (std::ifstream probe(aws.secret_access_key_file); !probe) {
      c.Problem(p + "secret_access_key_file", "cannot read " + aws.secret_access_key_file);
    }
  }
  if (!aws.ca_file.empty()) {
    aws.ca_file = Resolve(base_dir, aws.ca_file);
  }
}

// ParseApp's steps, each for one group of an [apps.NAME] table's keys. `p` is "apps.NAME.".

void ParseBrowserOrigins(Checker& c, const toml::table& t, const std::string& p, AppConfig& app) {
  if (!ReadStringList(c, t, "allowed_origins", p + "allowed_origins",
                      "a list of origins, e.g. [\"https://app.example.com\"]",
                      app.allowed_origins)) {
    return;
  }
  for (const auto& o : app.allowed_origins) {
    if (!IsOrigin(o)) {
      c.Problem(p + "allowed_origins", "\"" + o + "\" is not an origin (scheme://host[:port])");
    }
  }
}

void ParseArgon2(Checker& c, const toml::table& t, const std::string& p, AppConfig& app) {
  for (auto [key, field, min, max] :
       {std::tuple{"argon2_memory_kib", &crypto::Argon2Params::memory_kib, 8192, 4194304},
        std::tuple{"argon2_passes", &crypto::Argon2Params::passes, 1, 16},
        std::tuple{"argon2_lanes", &crypto::Argon2Params::lanes, 1, 16}}) {
    std::int64_t v = app.argon2.*field;
    c.Read(t, key, p + key, v);
    if (v < min || v > max) {
      c.Problem(p + key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    app.argon2.*field = static_cast<std::uint32_t>(v);
  }
}

void ParseLimits(Checker& c, const toml::table& t, const std::string& p, AppConfig& app) {
  const auto* limits = t["limits"].as_table();
  if (limits == nullptr) {
    return;
  }
  std::string lp = p + "limits.";
  CheckUnknownKeys(c, *limits, lp,
                   {"registrations_per_address_per_hour", "failed_logins_per_user",
                    "failed_logins_per_address_per_hour", "tokens_per_device_per_minute",
                    "failed_tokens_per_address_per_minute"});
  for (auto [key, field] :
       {std::pair{"registrations_per_address_per_hour",
                  &LimitsConfig::registrations_per_address_per_hour},
        std::pair{"failed_logins_per_user", &LimitsConfig::failed_logins_per_user},
        std::pair{"failed_logins_per_address_per_hour",
                  &LimitsConfig::failed_logins_per_address_per_hour},
        std::pair{"tokens_per_device_per_minute", &LimitsConfig::tokens_per_device_per_minute},
        std::pair{"failed_tokens_per_address_per_minute",
                  &LimitsConfig::failed_tokens_per_address_per_minute}}) {
    c.Read(*limits, key, lp + key, app.limits.*field);
    if (app.limits.*field < 0 || app.limits.*field > 1'000'000) {
      c.Problem(lp + key, "must be between 0 (no limit) and 1000000");
    }
  }
}

void ParseDevices(Checker& c, const toml::table& t, const std::string& p, AppConfig& app) {
  c.Read(t, "allow_insecure_legacy", p + "allow_insecure_legacy", app.allow_insecure_legacy);
  std::int64_t max_age_days = 0;
  c.Read(t, "max_device_age_days", p + "max_device_age_days", max_age_days);
  if (max_age_days < 0 || max_age_days > 36500) {
    c.Problem(p + "max_device_age_days", "must be between 0 (no limit) and 36500");
  }
  app.max_device_age = std::chrono::hours(24 * max_age_days);
}

// The app's name, its mode and the endpoint identity mode salts password hashes with.
void ParseIdentity(Checker& c, const std::string& name, const toml::table& t, const std::string& p,
                   AppConfig& app) {
  app.name = name;
  if (!IsValidAppName(name)) {
    c.Problem("apps." + name, "app names are 1-64 characters of a-z, 0-9, '-' and '_'");
  }
  std::string mode = "anonymous";
  c.Read(t, "mode", p + "mode", mode);
  if (mode == "anonymous") {
    app.mode = Mode::kAnonymous;
  } else if (mode == "identity") {
    app.mode = Mode::kIdentity;
  } else if (mode == "federated") {
    app.federated = true;  // no 2012 mode of its own: the 2012 endpoints are not served
  } else {
    c.Problem(p + "mode", "must be anonymous, identity or federated");
  }
  app.app_name = name;
  c.Read(t, "app_name", p + "app_name", app.app_name);
  c.Read(t, "public_endpoint", p + "public_endpoint", app.public_endpoint);
  if (app.mode == Mode::kIdentity && app.public_endpoint.empty()) {
    c.Problem(p + "public_endpoint",
              "required for identity apps: the URL clients are configured with (it salts "
              "password hashes)");
  }
}

void ParseIssuer(Checker& c, const std::string& name, const toml::table& t, const std::string& p,
                 const std::string& base_dir, AppConfig& app) {
  c.Read(t, "issuer", p + "issuer", app.issuer);
  for (const auto& idp : app.identity_providers) {
    if (!idp.session_tags.empty() && app.issuer != "aws-assume-role") {
      c.Problem(p + "identity_providers", "session_tags need the aws-assume-role issuer");
    }
    for (const auto& rule : idp.rules) {
      if (!rule.role_arn.empty() && app.issuer != "aws-assume-role") {
        c.Problem(p + "identity_providers", "a rule's role_arn needs the aws-assume-role issuer");
      }
    }
  }
  bool aws = app.issuer == "aws-federation" || app.issuer == "aws-assume-role";
  if (app.issuer != "dev" && !aws) {
    c.Problem(p + "issuer", "unknown issuer \"" + app.issuer +
                                "\" (available: dev, aws-federation, aws-assume-role)");
  }
  if (const auto* aws_table = t["aws"].as_table()) {
    if (!aws) {
      c.Problem(p + "aws", "only for the aws-federation and aws-assume-role issuers");
    }
    ParseAws(c, *aws_table, p + "aws.", app.issuer, base_dir, app.aws);
  } else if (t.contains("aws")) {
    c.Problem(p + "aws", "must be a table");
  } else if (app.issuer == "aws-assume-role") {
    c.Problem(p + "aws", "required for aws-assume-role ([apps." + name + ".aws] with role_arn)");
  }
}

// The session name and the lifetimes: of the credentials, and of a signed request.
void ParseSession(Checker& c, const toml::table& t, const std::string& p, AppConfig& app) {
  c.Read(t, "session_name", p + "session_name", app.session_name);
  // Checked with every claim it names present (a federated app's tokens bring them).
  std::vector<std::pair<std::string, std::string>> claims;
  for (const std::string& claim : issuer::NameClaims(app.session_name)) {
    if (!policy::IsClaimName(claim)) {
      c.Problem(p + "session_name",
                "${claim:NAME} needs a claim name of 1-64 letters, digits, '_', '-' or '.'");
    }
    claims.emplace_back(claim, "");
  }
  if (auto ok = issuer::ExpandName(app.session_name,
                                   {"", "", "", "", "", app.federated ? &claims : nullptr});
      !ok) {
    c.Problem(p + "session_name", ok.error().message);
  }
  // STS's own ranges: AssumeRole allows at most 12 hours, GetFederationToken 36.
  std::int64_t max_duration = app.issuer == "aws-assume-role" ? 43200 : 129600;
  if (!t.contains("duration_seconds")) {
    // STS's own defaults: AssumeRole 1 hour, GetFederationToken 12 hours; dev as in 2012.
    app.duration = std::chrono::seconds(app.issuer == "aws-assume-role"  ? 3600
                                        : app.issuer == "aws-federation" ? 43200
                                                                         : 86400);
  }
  ReadDuration(c, t, "duration_seconds", p + "duration_seconds", app.duration, 900, max_duration);
  ReadDuration(c, t, "timestamp_window_seconds", p + "timestamp_window_seconds",
               app.timestamp_window, 1, 900);
}

}  // namespace

void ParseApp(Checker& c, const std::string& name, const toml::table& t,
              const std::string& base_dir, AppConfig& app) {
  std::string p = "apps." + name + ".";
  CheckUnknownKeys(c, t, p,
                   {"mode", "app_name", "public_endpoint", "issuer", "aws", "session_name",
                    "duration_seconds", "policy", "policy_file", "timestamp_window_seconds",
                    "allow_insecure_legacy", "max_device_age_days", "limits", "argon2_memory_kib",
                    "argon2_passes", "argon2_lanes", "allowed_origins", "identity_providers"});
  ParseBrowserOrigins(c, t, p, app);
  ParseArgon2(c, t, p, app);
  ParseLimits(c, t, p, app);
  ParseDevices(c, t, p, app);
  ParseIdentity(c, name, t, p, app);
  ParseIdentityProviders(c, t, p, base_dir, app);
  ParseIssuer(c, name, t, p, base_dir, app);
  ParseSession(c, t, p, app);
  ParsePolicyTemplate(c, t, p, base_dir, app.federated, true, app.policy);
}

}  // namespace vendo::server::config_reader
