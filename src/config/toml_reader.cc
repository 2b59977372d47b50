#include "config/toml_reader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vendo::server::config_reader {

void CheckUnknownKeys(Checker& c, const toml::table& t, const std::string& prefix,
                      std::initializer_list<std::string_view> known) {
  for (auto&& [k, v] : t) {
    bool found = false;
    for (auto name : known) {
      found = found || k.str() == name;
    }
    if (!found) {
      c.Problem(prefix + std::string(k.str()), "unknown key");
    }
  }
}

bool ReadStringList(Checker& c, const toml::table& t, std::string_view key, const std::string& path,
                    std::string_view what, std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    return false;
  }
  const toml::array* list = n->as_array();
  bool ok = list != nullptr;
  for (std::size_t i = 0; ok && i < list->size(); ++i) {
    auto v = list->get(i)->value<std::string>();
    ok = v.has_value();
    if (ok) {
      out.push_back(*v);
    }
  }
  if (!ok) {
    c.Problem(path, "must be " + std::string(what));
  }
  return ok;
}

std::string Resolve(const std::string& base_dir, const std::string& file) {
  std::filesystem::path fp(file);
  return (fp.is_relative() ? std::filesystem::path(base_dir) / fp : fp).string();
}

std::string ReadFile(const std::string& path, bool& ok) {
  std::ifstream in(path);
  ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vendo::server::config_reader
