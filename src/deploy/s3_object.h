// Whether an S3 object can be read, asked before a deploy creates anything: the hosts
// download their package from it, so a missing artifact would otherwise only show as a host
// failing half an hour later. A signed GET of its first byte (Range: bytes=0-0), path-style.
#pragma once

#include <string>

#include "common/clock.h"
#include "net/transport.h"
#include "sts/credential_provider.h"
#include "sts/sts_client.h"
#include "vendo/result.h"

namespace vendo::deploy {

// Succeeds when s3://bucket/key answers 200 or 206. kNotFound names what is missing (bucket or
// key, from S3's error code); kPermissionDenied when these credentials may not read it.
[[nodiscard]] Status CheckObjectReadable(net::HttpTransport& http,
                                         sts::CredentialProvider& credentials, const Clock& clock,
                                         const sts::StsEndpoint& s3, const std::string& bucket,
                                         const std::string& key);

}  // namespace vendo::deploy
