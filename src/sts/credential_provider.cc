#include "sts/credential_provider.h"

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/encoding.h"
#include "net/url.h"
#include "sts/sts_xml.h"

namespace vendo::sts {
namespace {

constexpr std::chrono::milliseconds kMetadataTimeout{1000};
constexpr const char* kEcsHost = "169.254.170.2";
constexpr const char* kImdsDefault = "http://169.254.169.254";

std::string Trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

std::optional<std::string> NonEmpty(const EnvLookup& env, const std::string& name) {
  auto v = env(name);
  if (v && !v->empty()) {
    return v;
  }
  return std::nullopt;
}

// The key/value pairs of one [section] of an INI file; nullopt if the file or section is
// missing.
std::optional<std::vector<std::pair<std::string, std::string>>> ReadIniSection(
    const std::string& path, const std::string& section) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::optional<std::vector<std::pair<std::string, std::string>>> found;
  bool inside = false;
  std::string line;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') {
      continue;
    }
    if (t.front() == '[' && t.back() == ']') {
      inside = Trim(std::string_view(t).substr(1, t.size() - 2)) == section;
      if (inside && !found) {
        found.emplace();
      }
      continue;
    }
    auto eq = t.find('=');
    if (inside && eq != std::string::npos) {
      found->emplace_back(Trim(std::string_view(t).substr(0, eq)),
                          Trim(std::string_view(t).substr(eq + 1)));
    }
  }
  return found;
}

std::string Lookup(const std::vector<std::pair<std::string, std::string>>& kv,
                   std::string_view key) {
  for (const auto& [k, v] : kv) {
    if (k == key) {
      return v;
    }
  }
  return {};
}

// {"AccessKeyId": ..., "SecretAccessKey": ..., "Token": ..., "Expiration": ...}, the shape
// both the ECS endpoint and IMDS return.
Result<CallerCredentials> ParseCredentialsJson(std::string_view body, std::string source) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  const auto* obj = ec ? nullptr : v.if_object();
  if (obj == nullptr) {
    return Fail(ErrorCode::kUnavailable, source + ": the response is not a JSON object");
  }
  auto field = [obj](std::string_view name) -> std::string {
    const auto* f = obj->if_contains(name);
    return f != nullptr && f->is_string() ? std::string(f->get_string()) : std::string();
  };
  if (std::string code = field("Code"); !code.empty() && code != "Success") {
    return Fail(ErrorCode::kUnavailable, source + ": the endpoint says " + code);
  }
  CallerCredentials creds;
  creds.signing.access_key_id = field("AccessKeyId");
  creds.signing.secret_access_key = SecretString(field("SecretAccessKey"));
  creds.signing.session_token = field("Token");
  creds.source = std::move(source);
  if (creds.signing.access_key_id.empty() || creds.signing.secret_access_key.empty()) {
    return Fail(ErrorCode::kUnavailable, creds.source + ": the response has no credentials");
  }
  if (std::string expiration = field("Expiration"); !expiration.empty()) {
    auto when = ParseIsoTimestamp(expiration);
    if (!when) {
      return Fail(ErrorCode::kUnavailable, creds.source + ": unreadable Expiration");
    }
    creds.expiration = *when;
  }
  return creds;
}

Error NotFound(std::string what) { return Error{ErrorCode::kNotFound, std::move(what)}; }

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  };
}

void EnvironmentProvider::Fetch(CallerCallback done) {
  auto id = NonEmpty(env_, "AWS_ACCESS_KEY_ID");
  auto secret = NonEmpty(env_, "AWS_SECRET_ACCESS_KEY");
  if (!id || !secret) {
    done(std::unexpected(
        NotFound("environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set")));
    return;
  }
  CallerCredentials creds;
  creds.signing.access_key_id = *id;
  creds.signing.secret_access_key = SecretString(*secret);
  creds.signing.session_token = NonEmpty(env_, "AWS_SESSION_TOKEN").value_or("");
  creds.source = "environment";
  done(std::move(creds));
}

void SharedFilesProvider::Fetch(CallerCallback done) {
  std::string profile =
      !profile_.empty() ? profile_ : NonEmpty(env_, "AWS_PROFILE").value_or("default");
  auto home = NonEmpty(env_, "HOME").value_or("");
  std::string credentials_file = NonEmpty(env_, "AWS_SHARED_CREDENTIALS_FILE")
                                     .value_or(home.empty() ? "" : home + "/.aws/credentials");
  std::string config_file =
      NonEmpty(env_, "AWS_CONFIG_FILE").value_or(home.empty() ? "" : home + "/.aws/config");
  std::string source = "profile " + profile;
  // The credentials file names sections by profile; the config file says [profile NAME],
  // except for [default].
  for (const auto& [file, section] :
       {std::pair{credentials_file, profile},
        std::pair{config_file, profile == "default" ? profile : "profile " + profile}}) {
    if (file.empty()) {
      continue;
    }
    auto kv = ReadIniSection(file, section);
    if (!kv) {
      continue;
    }
    std::string id = Lookup(*kv, "aws_access_key_id");
    std::string secret = Lookup(*kv, "aws_secret_access_key");
    if (id.empty() || secret.empty()) {
      continue;  // a config-file profile with only a region, say
    }
    CallerCredentials creds;
    creds.signing.access_key_id = id;
    creds.signing.secret_access_key = SecretString(secret);
    creds.signing.session_token = Lookup(*kv, "aws_session_token");
    creds.source = source;
    done(std::move(creds));
    return;
  }
  done(std::unexpected(
      NotFound(source + ": no keys in " + credentials_file + " or " + config_file)));
}

void ContainerProvider::Fetch(CallerCallback done) {
  net::HttpCall call;
  call.method = "GET";
  call.timeout = kMetadataTimeout;
  if (auto relative = NonEmpty(env_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    call.host = kEcsHost;
    call.port = 80;
    call.tls = false;
    call.path = *relative;
  } else if (auto full = NonEmpty(env_, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    auto url = net::ParseHttpUrl(*full);
    if (!url) {
      done(Fail(ErrorCode::kInvalidArgument,
                "ecs: AWS_CONTAINER_CREDENTIALS_FULL_URI: " + url.error().message));
      return;
    }
    // Plain HTTP only to the container agent's link-local addresses or loopback, as the SDKs
    // require: credentials must not cross a network in the clear.
    bool agent = url->host == kEcsHost || url->host == "169.254.170.23" ||
                 url->host == "fd00:ec2::23" || net::IsLoopbackHost(url->host);
    if (!url->tls && !agent) {
      done(Fail(ErrorCode::kInvalidArgument,
                "ecs: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback or "
                "container-agent address"));
      return;
    }
    call.host = url->host;
    call.port = url->port;
    call.tls = url->tls;
    call.path = url->path_and_query;
    std::optional<std::string> token;
    if (auto token_file = NonEmpty(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
      std::ifstream in(*token_file);
      std::stringstream ss;
      ss << in.rdbuf();
      if (!in) {
        done(Fail(ErrorCode::kUnavailable, "ecs: cannot read " + *token_file));
        return;
      }
      token = Trim(ss.str());
    } else {
      token = NonEmpty(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (token) {
      call.headers.emplace_back("Authorization", *token);
    }
  } else {
    done(std::unexpected(NotFound("ecs: not in a container (no AWS_CONTAINER_CREDENTIALS_*)")));
    return;
  }
  transport_.Send(std::move(call), [done = std::move(done)](Result<net::HttpReply> reply) {
    if (!reply) {
      done(Fail(ErrorCode::kUnavailable, "ecs: " + reply.error().message));
    } else if (reply->status != 200) {
      done(Fail(ErrorCode::kUnavailable, "ecs: HTTP " + std::to_string(reply->status)));
    } else {
      done(ParseCredentialsJson(reply->body, "ecs"));
    }
  });
}

namespace {

// The three IMDSv2 steps, each a callback of the one before.
struct ImdsFetch {
  net::HttpTransport* transport;
  net::HttpUrl base;
  std::string token;
  CallerCallback done;

  net::HttpCall Call(std::string method, std::string path) const {
    net::HttpCall call;
    call.host = base.host;
    call.port = base.port;
    call.tls = base.tls;
    call.method = std::move(method);
    call.path = std::move(path);
    call.timeout = kMetadataTimeout;
    if (!token.empty()) {
      call.headers.emplace_back("X-aws-ec2-metadata-token", token);
    }
    return call;
  }

  static void Start(const std::shared_ptr<ImdsFetch>& self) {
    auto call = self->Call("PUT", "/latest/api/token");
    call.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
    self->transport->Send(std::move(call), [self](Result<net::HttpReply> reply) {
      if (!reply) {
        // Nothing answers: not on EC2 (or the hop limit is too low for a container).
        self->done(std::unexpected(
            NotFound("imds: no instance metadata service (" + reply.error().message + ")")));
        return;
      }
      if (reply->status != 200 || reply->body.empty()) {
        self->done(Fail(ErrorCode::kUnavailable,
                        "imds: token request answered HTTP " + std::to_string(reply->status)));
        return;
      }
      self->token = Trim(reply->body);
      ListRoles(self);
    });
  }

  static void ListRoles(const std::shared_ptr<ImdsFetch>& self) {
    auto call = self->Call("GET", "/latest/meta-data/iam/security-credentials/");
    self->transport->Send(std::move(call), [self](Result<net::HttpReply> reply) {
      if (!reply || reply->status != 200) {
        std::string why = reply ? "HTTP " + std::to_string(reply->status) : reply.error().message;
        self->done(
            Fail(reply && reply->status == 404 ? ErrorCode::kNotFound : ErrorCode::kUnavailable,
                 "imds: no instance role (" + why + ")"));
        return;
      }
      std::string role = Trim(std::string_view(reply->body).substr(0, reply->body.find('\n')));
      if (role.empty()) {
        self->done(std::unexpected(NotFound("imds: the instance has no role")));
        return;
      }
      FetchRole(self, role);
    });
  }

  static void FetchRole(const std::shared_ptr<ImdsFetch>& self, const std::string& role) {
    auto call = self->Call("GET", "/latest/meta-data/iam/security-credentials/" + role);
    self->transport->Send(std::move(call), [self, role](Result<net::HttpReply> reply) {
      if (!reply || reply->status != 200) {
        std::string why = reply ? "HTTP " + std::to_string(reply->status) : reply.error().message;
        self->done(Fail(ErrorCode::kUnavailable, "imds: role " + role + ": " + why));
        return;
      }
      self->done(ParseCredentialsJson(reply->body, "imds role " + role));
    });
  }
};

}  // namespace

void InstanceMetadataProvider::Fetch(CallerCallback done) {
  if (AsciiLower(NonEmpty(env_, "AWS_EC2_METADATA_DISABLED").value_or("")) == "true") {
    done(std::unexpected(NotFound("imds: disabled by AWS_EC2_METADATA_DISABLED")));
    return;
  }
  std::string endpoint = NonEmpty(env_, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(kImdsDefault);
  auto base = net::ParseHttpUrl(endpoint);
  if (!base) {
    done(Fail(ErrorCode::kInvalidArgument,
              "imds: AWS_EC2_METADATA_SERVICE_ENDPOINT: " + base.error().message));
    return;
  }
  auto fetch = std::make_shared<ImdsFetch>(ImdsFetch{&transport_, *base, "", std::move(done)});
  ImdsFetch::Start(fetch);
}

struct ProviderChain::Walk {
  std::size_t index = 0;
  std::string tried;  // what each provider said, for the final error
  CallerCallback done;
};

void ProviderChain::Fetch(CallerCallback done) {
  auto walk = std::make_shared<Walk>();
  walk->done = std::move(done);
  Next(walk);
}

void ProviderChain::Next(const std::shared_ptr<Walk>& walk) {
  if (walk->index == providers_.size()) {
    walk->done(Fail(ErrorCode::kUnavailable, "no AWS credentials found: " + walk->tried));
    return;
  }
  CredentialProvider& provider = *providers_[walk->index++];
  provider.Fetch([this, walk](Result<CallerCredentials> result) {
    if (result) {
      walk->done(std::move(result));
      return;
    }
    if (result.error().code != ErrorCode::kNotFound) {
      walk->done(std::move(result));  // configured here but broken: say so, do not fall through
      return;
    }
    walk->tried += (walk->tried.empty() ? "" : "; ") + result.error().message;
    Next(walk);
  });
}

std::unique_ptr<CredentialProvider> DefaultChain(net::HttpTransport& transport,
                                                 const EnvLookup& env, const std::string& profile) {
  std::vector<std::unique_ptr<CredentialProvider>> providers;
  if (profile.empty()) {
    providers.push_back(std::make_unique<EnvironmentProvider>(env));
  }
  providers.push_back(std::make_unique<SharedFilesProvider>(env, profile));
  if (profile.empty()) {
    providers.push_back(std::make_unique<ContainerProvider>(transport, env));
    providers.push_back(std::make_unique<InstanceMetadataProvider>(transport, env));
  }
  return std::make_unique<ProviderChain>(std::move(providers));
}

void RefreshingProvider::Fetch(CallerCallback done) {
  std::unique_lock lock(mu_);
  auto now = clock_.Now();
  bool fresh = cached_ && (!cached_->expiration || now + margin_ < *cached_->expiration);
  bool usable = cached_ && (!cached_->expiration || now < *cached_->expiration);
  if (usable) {
    // Still valid: no caller waits. Within the margin, one caller starts the refresh.
    CallerCredentials copy = *cached_;
    bool refresh = !fresh && !fetching_;
    fetching_ = fetching_ || refresh;
    lock.unlock();
    if (refresh) {
      inner_->Fetch([this](Result<CallerCredentials> result) { OnFetched(std::move(result)); });
    }
    done(std::move(copy));
    return;
  }
  waiting_.push_back(std::move(done));
  if (fetching_) {
    return;
  }
  fetching_ = true;
  lock.unlock();
  inner_->Fetch([this](Result<CallerCredentials> result) { OnFetched(std::move(result)); });
}

bool RefreshingProvider::Ready() {
  std::unique_lock lock(mu_);
  auto now = clock_.Now();
  bool usable = cached_ && (!cached_->expiration || now < *cached_->expiration);
  bool fresh = cached_ && (!cached_->expiration || now + margin_ < *cached_->expiration);
  bool start = !fresh && !fetching_;
  fetching_ = fetching_ || start;
  lock.unlock();
  if (start) {
    inner_->Fetch([this](Result<CallerCredentials> result) { OnFetched(std::move(result)); });
  }
  return usable;
}

void RefreshingProvider::OnFetched(Result<CallerCredentials> result) {
  std::vector<CallerCallback> waiting;
  std::optional<CallerCredentials> serve;
  {
    std::lock_guard lock(mu_);
    fetching_ = false;
    waiting.swap(waiting_);
    if (result) {
      cached_ = *result;
    } else if (cached_ && cached_->expiration && clock_.Now() < *cached_->expiration) {
      serve = cached_;  // the refresh failed; the old ones still work for a while
    }
  }
  for (auto& cb : waiting) {
    if (result) {
      cb(*result);
    } else if (serve) {
      cb(*serve);
    } else {
      cb(std::unexpected(result.error()));
    }
  }
}

}  // namespace vendo::sts
