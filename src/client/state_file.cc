// FileStateStore: the client's state as a JSON file, private to its owner, replaced atomically.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/wire.h"
#include "vendo/client.h"

namespace vendo::client {
namespace {

std::string SysError(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return Fail(ErrorCode::kUnavailable, SysError("cannot write", path));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

class FileStore final : public StateStore {
 public:
  explicit FileStore(std::string path) : path_(std::move(path)) {}

  Result<std::optional<State>> Load() override {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) {
        return std::optional<State>();
      }
      return Fail(ErrorCode::kUnavailable, SysError("cannot open", path_));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
      ::close(fd);
      // Like ssh with a private key: a secret others can read is not used.
      return Fail(ErrorCode::kPermissionDenied,
                  path_ + " holds a device secret but others may read it (chmod 600 it)");
    }
    std::string text;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        ::close(fd);
        return Fail(ErrorCode::kUnavailable, SysError("cannot read", path_));
      }
      if (n == 0 || text.size() > (1 << 20)) {
        break;
      }
      text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    auto state = wire::StateFromJson(text);
    if (!state) {
      return Fail(state.error().code, path_ + ": " + state.error().message);
    }
    return std::optional<State>(std::move(*state));
  }

  Status Save(const State& state) override {
    std::filesystem::path target(path_);
    std::filesystem::path dir = target.parent_path();
    if (!dir.empty() && !std::filesystem::exists(dir)) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) {
        return Fail(ErrorCode::kUnavailable, "cannot create " + dir.string() + ": " + ec.message());
      }
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    std::string tmp = path_ + ".XXXXXX";
    int fd = ::mkstemp(tmp.data());  // creates the file with mode 0600
    if (fd < 0) {
      return Fail(ErrorCode::kUnavailable, SysError("cannot create a file beside", path_));
    }
    auto fail = [&](Error e) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return std::unexpected(std::move(e));
    };
    if (::fchmod(fd, 0600) != 0) {
      return fail({ErrorCode::kUnavailable, SysError("cannot chmod", tmp)});
    }
    if (auto st = WriteAll(fd, wire::StateToJson(state), tmp); !st) {
      return fail(st.error());
    }
    if (::fsync(fd) != 0) {
      return fail({ErrorCode::kUnavailable, SysError("cannot sync", tmp)});
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path_.c_str()) != 0) {
      Error e{ErrorCode::kUnavailable, SysError("cannot replace", path_)};
      ::unlink(tmp.c_str());
      return std::unexpected(std::move(e));
    }
    // The rename itself must survive a crash: sync the directory too.
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return {};
  }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<StateStore> FileStateStore(std::string path) {
  return std::make_unique<FileStore>(std::move(path));
}

}  // namespace vendo::client
