// Temporary AWS credentials as vendo hands them to devices.
#pragma once

#include <chrono>
#include <string>

namespace vendo {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::chrono::system_clock::time_point expiration;
};

}  // namespace vendo
