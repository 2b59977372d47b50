#include "oidc/key_source.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "common/log.h"
#include "net/url.h"

namespace vendo::oidc {

using std::chrono::seconds;

std::chrono::seconds CacheLifetime(std::string_view cache_control, seconds fallback, seconds min,
                                   seconds max) {
  std::string lower(cache_control);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower.find("no-store") != std::string::npos || lower.find("no-cache") != std::string::npos) {
    return min;
  }
  seconds ttl = fallback;
  if (auto at = lower.find("max-age="); at != std::string::npos) {
    std::int64_t v = 0;
    const char* begin = lower.data() + at + 8;
    if (auto [end, ec] = std::from_chars(begin, lower.data() + lower.size(), v);
        ec == std::errc() && end != begin) {
      ttl = seconds(v);
    }
  }
  return std::clamp(ttl, min, max);
}

void KeySource::Keys(bool unknown_kid, Done done) {
  std::unique_lock lock(mu_);
  auto now = clock_.Steady();
  bool stale = !keys_ || now >= fresh_until_;
  bool refetch_allowed = !fetched_once_ || now - last_fetch_ >= options_.min_refetch;
  if (!fetching_ && ((stale && refetch_allowed) || (unknown_kid && refetch_allowed))) {
    fetching_ = true;
    fetched_once_ = true;
    last_fetch_ = now;
    ++stats_.fetches;
    waiting_.push_back(std::move(done));
    lock.unlock();
    Fetch();
    return;
  }
  if (fetching_ && (!keys_ || unknown_kid)) {
    waiting_.push_back(std::move(done));  // the fetch under way may have what is asked for
    return;
  }
  auto keys = keys_;  // fresh, or stale while a refetch is not yet allowed
  lock.unlock();
  done(std::move(keys));
}

KeySourceStats KeySource::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void KeySource::Get(const std::string& url, std::function<void(Result<net::HttpReply>)> done) {
  auto parsed = net::ParseHttpUrl(url);
  if (!parsed || !parsed->tls) {
    done(Fail(ErrorCode::kInvalidArgument, "not an https URL: " + url));
    return;
  }
  net::HttpCall call;
  call.host = parsed->host;
  call.port = parsed->port;
  call.tls = true;
  call.method = "GET";
  call.path = parsed->path_and_query;
  call.headers = {{"Accept", "application/json"}};
  call.timeout = options_.timeout;
  transport_.Send(std::move(call), std::move(done));
}

void KeySource::Fetch() {
  std::string discovery = options_.issuer_url;
  if (!discovery.empty() && discovery.back() == '/') {
    discovery.pop_back();
  }
  discovery += "/.well-known/openid-configuration";
  Get(discovery, [this](Result<net::HttpReply> reply) {
    if (!reply || reply->status != 200) {
      LogLine(LogLevel::kWarn, "OpenID discovery failed; keeping the keys held")
          .Str("issuer", options_.issuer_url)
          .Str("error", reply ? "HTTP " + std::to_string(reply->status) : reply.error().message)
          .Emit();
      Finish(nullptr, seconds(0));
      return;
    }
    boost::system::error_code ec;
    auto doc = boost::json::parse(reply->body, ec);
    const boost::json::object* o = !ec ? doc.if_object() : nullptr;
    const auto* issuer = o != nullptr ? o->if_contains("issuer") : nullptr;
    const auto* jwks = o != nullptr ? o->if_contains("jwks_uri") : nullptr;
    if (issuer == nullptr || !issuer->is_string() || issuer->get_string() != options_.issuer_url ||
        jwks == nullptr || !jwks->is_string()) {
      LogLine(LogLevel::kWarn,
              "OpenID discovery document unusable (its issuer must be the configured "
              "issuer_url exactly, and it must name a jwks_uri)")
          .Str("issuer", options_.issuer_url)
          .Emit();
      Finish(nullptr, seconds(0));
      return;
    }
    FetchKeys(std::string(jwks->get_string()));
  });
}

void KeySource::FetchKeys(const std::string& jwks_uri) {
  Get(jwks_uri, [this, jwks_uri](Result<net::HttpReply> reply) {
    Result<JwkSet> keys = Fail(ErrorCode::kUnavailable, "");
    if (!reply) {
      keys = std::unexpected(reply.error());
    } else if (reply->status != 200) {
      keys = Fail(ErrorCode::kUnavailable, "HTTP " + std::to_string(reply->status));
    } else {
      keys = JwkSet::Parse(reply->body);
    }
    if (!keys) {
      LogLine(LogLevel::kWarn, "OpenID keys could not be fetched; keeping the keys held")
          .Str("jwks_uri", jwks_uri)
          .Str("error", keys.error().message)
          .Emit();
      Finish(nullptr, seconds(0));
      return;
    }
    Finish(std::make_shared<const JwkSet>(std::move(*keys)),
           CacheLifetime(reply->Header("Cache-Control"), options_.default_ttl, options_.min_ttl,
                         options_.max_ttl));
  });
}

void KeySource::Finish(std::shared_ptr<const JwkSet> keys, seconds ttl) {
  std::vector<Done> waiting;
  std::shared_ptr<const JwkSet> answer;
  {
    std::lock_guard lock(mu_);
    if (keys) {
      keys_ = std::move(keys);
      fresh_until_ = clock_.Steady() + ttl;
    } else {
      ++stats_.failures;
    }
    fetching_ = false;
    waiting.swap(waiting_);
    answer = keys_;
  }
  for (auto& done : waiting) {
    done(answer);
  }
}

}  // namespace vendo::oidc
