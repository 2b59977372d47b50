#include <sys/stat.h>

#include <filesystem>

#include "cli/commands.h"
#include "common/random.h"
#include "crypto/secret_box.h"

namespace vendo::cli {

std::string PrepareDevDataDir(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return "cannot create data directory " + data_dir + ": " + ec.message();
  }
  ::chmod(data_dir.c_str(), 0700);
  std::string key_file = data_dir + "/master.key";
  if (!std::filesystem::exists(key_file)) {
    OsRandom random;
    if (auto st = crypto::CreateMasterKeyFile(key_file, random); !st) {
      return st.error().message;
    }
  }
  return "";
}

}  // namespace vendo::cli
