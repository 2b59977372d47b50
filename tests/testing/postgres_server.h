// PostgresServer: a throw-away PostgreSQL on 127.0.0.1 for one test program, started with
// scripts/pg-test-server.sh in a scratch directory and stopped (and removed) at the end.
// A server that cannot start fails the test program loudly: nothing is skipped.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace vendo::testing {

class PostgresServer {
 public:
  PostgresServer() {
    char tmpl[] = "/tmp/vendo-pg-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = tmpl;
    port_ = FreePort();
    url_ = Run("start " + dir_ + " " + std::to_string(port_));
    std::ifstream in(dir_ + "/password");
    std::getline(in, password_);
  }
  ~PostgresServer() {
    (void)Run("stop " + dir_, /*must=*/false);
    std::filesystem::remove_all(dir_);
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  const std::string& url() const { return url_; }
  const std::string& password() const { return password_; }
  const std::string& dir() const { return dir_; }
  // A crash (immediate shutdown) and a start again on the same port and data.
  void Kill() { (void)Run("kill " + dir_); }
  void Restart() { (void)Run("restart " + dir_); }

 private:
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
  }

  std::string Run(const std::string& args, bool must = true) {
    std::string cmd = std::string(VENDO_SOURCE_DIR) + "/scripts/pg-test-server.sh " + args;
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[256];
    while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) {
      out += buf;
    }
    int status = p != nullptr ? pclose(p) : -1;
    if (must && status != 0) {
      throw std::runtime_error("PostgreSQL test server: `" + cmd +
                               "` failed (is the "
                               "postgresql package installed? make deps installs it)");
    }
    while (!out.empty() && out.back() == '\n') {
      out.pop_back();
    }
    auto nl = out.rfind('\n');
    return nl == std::string::npos ? out : out.substr(nl + 1);
  }

  std::string dir_;
  int port_ = 0;
  std::string url_;
  std::string password_;
};

}  // namespace vendo::testing
