// SignAwsRequest against botocore's S3 signer (the reference on this machine).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "vendo/client.h"

namespace vendo::client {
namespace {

std::string RunCommand(const std::string& cmd) {
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (pipe != nullptr && std::fgets(buf, sizeof buf, pipe) != nullptr) {
    out += buf;
  }
  if (pipe != nullptr) {
    ::pclose(pipe);
  }
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

TEST(SignAwsRequest, MatchesBotocoresS3Signer) {
  Credentials creds{"ASIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok/en+==",
                    std::chrono::system_clock::time_point(std::chrono::seconds(1'795'510'047))};
  HttpRequest put{.method = "PUT",
                  .url = "http://127.0.0.1:9000/photos/alice/hello%20world.txt",
                  .headers = {{"Content-Type", "text/plain"}},
                  .body = "hello, world\n"};
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'795'506'447));
  ASSERT_TRUE(SignAwsRequest(put, creds, "us-east-1", "s3", now));
  EXPECT_EQ(put.Header("X-Amz-Security-Token"), "tok/en+==");
  EXPECT_EQ(put.Header("Host"), "127.0.0.1:9000");
  std::string script = std::string(VENDO_PYTHON) + R"( -c '
import datetime
from unittest import mock
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
req = AWSRequest(method="PUT", url="http://127.0.0.1:9000/photos/alice/hello%20world.txt",
                 data=b"hello, world\n", headers={"Content-Type": "text/plain"})
class Fixed(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return cls(2026, 11, 24, 7, 47, 27)
    @classmethod
    def now(cls, tz=None):
        return cls(2026, 11, 24, 7, 47, 27, tzinfo=tz)
with mock.patch("botocore.auth.datetime.datetime", Fixed):
    S3SigV4Auth(Credentials("ASIAEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                            "tok/en+=="), "s3", "us-east-1").add_auth(req)
print(req.headers["Authorization"])
')";
  std::string expected = RunCommand(script);
  ASSERT_FALSE(expected.empty()) << "botocore did not run";
  EXPECT_EQ(put.Header("Authorization"), expected);
}

TEST(SignAwsRequest, RefusesARelativeUrl) {
  HttpRequest r{.method = "GET", .url = "/bucket"};
  EXPECT_FALSE(SignAwsRequest(r, {}, "us-east-1", "s3", {}));
}

}  // namespace
}  // namespace vendo::client
