// Reads a secret (an STS secret key, a database password) from a file of its own, so that it
// never travels on a command line or in a config that gets printed.
#pragma once

#include <string>

#include "common/secret.h"
#include "vendo/result.h"

namespace vendo {

// The file's content without trailing whitespace. Fails if it cannot be read or is empty.
[[nodiscard]] Result<SecretString> ReadSecretFile(const std::string& path);

}  // namespace vendo
