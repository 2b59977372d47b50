// Passwords for commands: never on the command line, where `ps` and shell history keep them.
#pragma once

#include <optional>
#include <string>

namespace vendo::cli {

// The first line of `file`, or of standard input when `file` is empty; on a terminal it asks
// ("Password: " on stderr) and does not echo what is typed. nullopt when there is no line.
std::optional<std::string> ReadPassword(const std::string& file);

}  // namespace vendo::cli
