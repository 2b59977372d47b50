// One app's configuration ([apps.NAME] in the TOML file): its protocol mode, issuer, policy,
// limits and password hashing. What the use cases need of the configuration, and nothing of
// the server's own settings (config.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/password.h"
#include "protocol/legacy.h"

namespace vendo::server {

// Abuse limits of an app ([apps.NAME.limits]; see vending/limits.h).
struct LimitsConfig {
  std::int64_t registrations_per_address_per_hour = 100;  // 0 = no limit, for each
  std::int64_t failed_logins_per_user = 10;
  std::int64_t failed_logins_per_address_per_hour = 100;
  std::int64_t tokens_per_device_per_minute = 120;
};

// How an aws-federation or aws-assume-role issuer reaches STS, and as whom.
struct AwsIssuerConfig {
  std::string region = "us-east-1";  // signs requests; ${region} in policies
  std::string endpoint;              // URL; empty = https://sts.REGION.amazonaws.com
  std::string account_id;            // ${account_id} in policies
  std::string role_arn;              // aws-assume-role: the role devices get
  std::string external_id;           // aws-assume-role, optional
  std::string source_identity;       // aws-assume-role, optional name template
  bool session_tags = true;          // aws-assume-role: vendo:app, vendo:device, vendo:user
  std::string ca_file;               // PEM bundle; empty = the system trust store
  // vendo's own credentials: a key and a secret file, or a profile of the shared files;
  // neither = the default chain (environment, shared files, ECS, EC2 instance metadata).
  std::string access_key_id;
  std::string secret_access_key_file;
  std::string profile;
  std::chrono::milliseconds deadline{10000};  // per credential request, retries included
  int max_attempts = 4;
  // One exchange with STS; at most `deadline`.
  std::chrono::milliseconds attempt_timeout{5000};
};

struct AppConfig {
  std::string name;  // URL segment: /apps/NAME/...
  protocol::legacy::Mode mode = protocol::legacy::Mode::kAnonymous;
  std::string app_name;         // identity: the 2012 PARAM1 (lower-cased for salts and pages)
  std::string public_endpoint;  // URL the clients are configured with (identity salt)
  std::string issuer = "dev";   // dev, aws-federation or aws-assume-role
  AwsIssuerConfig aws;          // [apps.NAME.aws], for the aws-* issuers
  // STS Name / RoleSessionName template; empty = ${uid} (anonymous) or ${username} (identity).
  std::string session_name;
  std::chrono::seconds duration{86400};
  std::string_view SessionNameTemplate() const {
    if (!session_name.empty()) {
      return session_name;
    }
    return mode == protocol::legacy::Mode::kIdentity ? "${username}" : "${uid}";
  }
  std::string policy;  // template text (policy_file is read at load time)
  std::chrono::seconds timestamp_window{900};
  // The 2012 protocol sends keys and passwords in URLs: over plain HTTP only if this says so.
  bool allow_insecure_legacy = false;
  // Web pages on other sites that may call the v2 JSON endpoints from a browser
  // ("https://app.example.com"); a request from any other foreign Origin is refused (403).
  std::vector<std::string> allowed_origins;
  // Devices older than this get no more tokens (anonymous: register a new uid; identity: an
  // admin revokes and the user logs in on a new one). 0 = no limit.
  std::chrono::seconds max_device_age{0};
  LimitsConfig limits;          // [apps.NAME.limits]
  crypto::Argon2Params argon2;  // protocol v2 password hashing
};

}  // namespace vendo::server
