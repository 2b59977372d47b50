#include "common/random.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace vendo {
namespace {

TEST(OsRandom, ParentAndForkedChildNeverShareBytes) {
  OsRandom random;
  random.Hex(16);  // the pool now holds bytes this process has not handed out yet
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::array<std::uint8_t, 64> bytes{};
    random.Fill(bytes);
    _exit(write(pipe_fds[1], bytes.data(), bytes.size()) == 64 ? 0 : 1);
  }
  close(pipe_fds[1]);
  std::array<std::uint8_t, 64> parent{};
  random.Fill(parent);
  std::array<std::uint8_t, 64> from_child{};
  ASSERT_EQ(read(pipe_fds[0], from_child.data(), from_child.size()), 64);
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(std::memcmp(parent.data(), from_child.data(), parent.size()), 0);
}

TEST(OsRandom, SmallAndLargeRequestsDiffer) {
  OsRandom random;
  EXPECT_NE(random.Hex(16), random.Hex(16));
  EXPECT_EQ(random.Bytes(1000).size(), 1000u);
}

}  // namespace
}  // namespace vendo
