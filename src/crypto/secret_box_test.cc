#include "crypto/secret_box.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

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

}  // namespace
}  // namespace vendo::crypto
