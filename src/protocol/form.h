// Request parameters as a 2012 servlet saw them: the query string, then an
// application/x-www-form-urlencoded body; '+' is a space; the first occurrence of a name wins.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vendo/result.h"

namespace vendo::protocol {

inline constexpr std::size_t kMaxParams = 64;

class Params {
 public:
  // Fails with kInvalidArgument on malformed percent-encoding or too many parameters.
  [[nodiscard]] static Result<Params> Parse(std::string_view query, std::string_view body,
                                            std::string_view content_type);

  // The raw (decoded, untrimmed) first value of `name`.
  std::optional<std::string_view> Get(std::string_view name) const;
  // The value trimmed as Java's String.trim() does (chars <= 0x20), or nullopt when the
  // parameter is absent or blank: the 2012 servers' "missing" test. Valid while this lives.
  std::optional<std::string_view> Required(std::string_view name) const;

 private:
  struct Item {  // where a pair's decoded key and value sit in decoded_
    std::size_t key_at, key_size, value_at, value_size;
  };
  [[nodiscard]] Status Add(std::string_view encoded);

  std::string decoded_;  // every key and value, decoded, back to back: one allocation
  std::vector<Item> items_;
};

std::string_view JavaTrim(std::string_view s);

}  // namespace vendo::protocol
