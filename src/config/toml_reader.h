// The toolkit every configuration section is read with: a Checker that collects each
// problem under its dotted key (so `vendo config check` lists them all at once, not just the
// first), typed reads of optional keys, and the checks shared by sections.
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace vendo::server::config_reader {

class Checker {
 public:
  void Problem(const std::string& key, const std::string& what) {
    problems_.push_back(key + ": " + what);
  }
  bool ok() const { return problems_.empty(); }
  std::vector<std::string> Take() { return std::move(problems_); }

  // Reads an optional key of type T into `out`, reporting a wrong type.
  template <class T>
  void Read(const toml::table& t, std::string_view key, const std::string& path, T& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      return;
    }
    if (auto v = n->value<T>()) {
      out = *v;
    } else {
      Problem(path, std::string("wrong type (expected ") + TypeName<T>() + ")");
    }
  }

 private:
  template <class T>
  static const char* TypeName() {
    if constexpr (std::is_same_v<T, std::string>) {
      return "a string";
    } else if constexpr (std::is_same_v<T, bool>) {
      return "true or false";
    } else {
      return "an integer";
    }
  }
  std::vector<std::string> problems_;
};

// Reports every key of `t` that is not in `known` as "<prefix><key>: unknown key".
void CheckUnknownKeys(Checker& c, const toml::table& t, const std::string& prefix,
                      std::initializer_list<std::string_view> known);

// A list of strings at `key`, if there is one; false (with a problem) when it is not a list of
// strings. `what` says what a list should hold.
bool ReadStringList(Checker& c, const toml::table& t, std::string_view key, const std::string& path,
                    std::string_view what, std::vector<std::string>& out);

// An integer key read as a duration of `out`'s unit, within [min, max].
template <class Rep, class Period>
void ReadDuration(Checker& c, const toml::table& t, std::string_view key, const std::string& path,
                  std::chrono::duration<Rep, Period>& out, std::int64_t min, std::int64_t max) {
  std::int64_t v = out.count();
  c.Read(t, key, path, v);
  if (v < min || v > max) {
    c.Problem(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return;
  }
  out = std::chrono::duration<Rep, Period>(v);
}

// `file` as given when absolute, else relative to the configuration file's folder.
std::string Resolve(const std::string& base_dir, const std::string& file);
// The whole file at `path`; `ok` says whether it could be opened.
std::string ReadFile(const std::string& path, bool& ok);

}  // namespace vendo::server::config_reader
