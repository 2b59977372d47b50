// One app's configuration ([apps.NAME] in the TOML file): its protocol mode, issuer, policy,
// limits and password hashing. What the use cases need of the configuration, and nothing of
// the server's own settings (config.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
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
  std::int64_t failed_tokens_per_address_per_minute = 60;  // federated apps: bad ID tokens
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

// A rule that gives the identities whose claim `claim` is `equals` (a string claim), or holds
// it (an array of strings, such as "groups"), another policy or role than the app's
// ([[apps.NAME.identity_providers.rules]]). A provider's first matching rule applies.
struct ClaimRuleConfig {
  std::string claim;
  std::string equals;
  std::string policy;    // template text; empty = the app's
  std::string role_arn;  // aws-assume-role; empty = the app's aws.role_arn
};

// An OpenID Connect provider a federated app takes ID tokens from
// ([[apps.NAME.identity_providers]]; see oidc/id_token.h for what is checked).
struct IdentityProviderConfig {
  std::string name;        // a-z, 0-9, '-', '_': ${idp}, and the provider in `vendo user`
  std::string issuer_url;  // https://...: the tokens' "iss", and where discovery starts
  std::vector<std::string> audiences;  // the app's client ids at the provider
  std::string ca_file;                 // PEM bundle for a private provider; empty = system
  std::vector<std::string> algorithms = {"RS256", "PS256", "ES256", "EdDSA"};
  std::chrono::seconds leeway{60};
  std::chrono::seconds max_token_age{0};  // 0: any age while unexpired
  // Claims that must hold exactly these values ([...identity_providers.required_claims]).
  std::vector<std::pair<std::string, std::string>> required_claims;
  std::chrono::seconds min_refetch{60};  // an unknown key id refetches the keys at most this often
  // aws-assume-role: session tags from claims, tag key -> claim name ({ email = "email" }).
  std::vector<std::pair<std::string, std::string>> session_tags;
  std::size_t max_token_bytes = std::size_t{16} * 1024;
  std::vector<ClaimRuleConfig> rules;
};

struct AppConfig {
  std::string name;  // URL segment: /apps/NAME/...
  protocol::legacy::Mode mode = protocol::legacy::Mode::kAnonymous;
  // mode = "federated": ID tokens of `identity_providers` buy credentials (POST
  // /v2/apps/NAME/federate); no 2012 endpoint and no registration or sign-up is served.
  bool federated = false;
  std::vector<IdentityProviderConfig> identity_providers;
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
    // A federated identity's username is "PROVIDER:SUB".
    return mode == protocol::legacy::Mode::kIdentity || federated ? "${username}" : "${uid}";
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
