#include "crypto/secret_box.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace vendo::crypto {
namespace {

TEST(SecretBox, SealsAndOpensBoundToContext) {
  OsRandom random;
  SecretBox box(SecretString(std::string(32, 'k')), random);
  auto sealed = box.Seal("000102030405060708090a0b0c0d0e0f", "devices/app/uid-1");
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(sealed->find("000102"), std::string::npos);
  auto opened = box.Open(*sealed, "devices/app/uid-1");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->Reveal(), "000102030405060708090a0b0c0d0e0f");
  EXPECT_FALSE(box.Open(*sealed, "devices/app/uid-2").has_value());
  // Two seals of the same value differ (fresh nonce).
  EXPECT_NE(*sealed, *box.Seal("000102030405060708090a0b0c0d0e0f", "devices/app/uid-1"));
}

TEST(SecretBox, WrongMasterKeyFails) {
  OsRandom random;
  SecretBox a(SecretString(std::string(32, 'a')), random);
  SecretBox b(SecretString(std::string(32, 'b')), random);
  EXPECT_FALSE(b.Open(*a.Seal("x", "c"), "c").has_value());
}

TEST(MasterKeyFile, CreateThenLoadAndRefuseLoosePermissions) {
  auto dir = std::filesystem::temp_directory_path() / ("vendo-mk-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "master.key").string();
  std::filesystem::remove(path);
  OsRandom random;
  ASSERT_TRUE(CreateMasterKeyFile(path, random).has_value());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(CreateMasterKeyFile(path, random).has_value());  // never overwrites
  auto key = LoadMasterKey(path);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->Reveal().size(), 32u);
  ::chmod(path.c_str(), 0644);
  EXPECT_FALSE(LoadMasterKey(path).has_value());
  std::filesystem::remove_all(dir);
}

// The deployed host's layout: /etc/vendo/master.key root:vendo 0640. A key owned by root may
// be readable by its group; one owned by anyone else may not; others never.
TEST(MasterKeyFile, RootOwnedMayBeGroupReadableAndUnreadableSaysWhy) {
  auto dir = std::filesystem::temp_directory_path() / ("vendo-mk2-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  std::string path = (dir / "master.key").string();
  OsRandom random;
  ASSERT_TRUE(CreateMasterKeyFile(path, random).has_value());
  bool root = ::geteuid() == 0;
  ::chmod(path.c_str(), 0640);
  auto group_readable = LoadMasterKey(path);
  EXPECT_EQ(group_readable.has_value(), root);  // accepted only when root owns it
  if (root) {
    ::chmod(path.c_str(), 0644);
    auto loose = LoadMasterKey(path);
    ASSERT_FALSE(loose.has_value());
    EXPECT_NE(loose.error().message.find("readable by others"), std::string::npos);
    ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);  // nobody's, group-readable: refused
    ::chmod(path.c_str(), 0640);
    EXPECT_FALSE(LoadMasterKey(path).has_value());
    // Root's own 0600 key, read by an unprivileged user: the error names the real cause.
    ASSERT_EQ(::chown(path.c_str(), 0, 0), 0);
    ::chmod(path.c_str(), 0600);
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid_t child = ::fork();
    if (child == 0) {
      ::close(pipe_fds[0]);
      std::string message = "setuid failed";
      if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
        auto denied = LoadMasterKey(path);
        message = denied ? "loaded" : denied.error().message;
      }
      (void)!::write(pipe_fds[1], message.data(), message.size());
      ::_exit(0);
    }
    ::close(pipe_fds[1]);
    std::string message;
    char buf[512];
    for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) {
      message.append(buf, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_NE(message.find("Permission denied"), std::string::npos) << message;
    EXPECT_EQ(message.find("64 hex"), std::string::npos) << message;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vendo::crypto
