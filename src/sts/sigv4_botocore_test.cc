// vendo's signer against botocore's, the reference implementation on this machine, on 200
// generated requests (odd characters in paths, queries and headers; with and without session
// tokens; several regions and services). tests/sigv4/botocore_sign.py makes the cases.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

#include "sts/sigv4.h"

namespace vendo::sts {
namespace {

std::string RunScript() {
  std::string cmd =
      std::string(VENDO_PYTHON) + " " + VENDO_SOURCE_DIR + "/tests/sigv4/botocore_sign.py 200";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    return "";
  }
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) {
    out.append(buf, n);
  }
  ::pclose(pipe);
  return out;
}

TEST(SigV4, AgreesWithBotocore) {
  std::string lines = RunScript();
  std::tm tm{};
  tm.tm_year = 2015 - 1900;
  tm.tm_mon = 7;
  tm.tm_mday = 30;
  tm.tm_hour = 12;
  tm.tm_min = 36;
  auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  int compared = 0;
  std::size_t start = 0;
  while (start < lines.size()) {
    std::size_t end = lines.find('\n', start);
    auto doc = boost::json::parse(lines.substr(start, end - start)).as_object();
    start = end == std::string::npos ? lines.size() : end + 1;
    RequestToSign r;
    r.method = std::string(doc.at("method").as_string());
    r.path = std::string(doc.at("path").as_string());
    r.query = std::string(doc.at("query").as_string());
    r.body = std::string(doc.at("body").as_string());
    for (const auto& h : doc.at("headers").as_array()) {
      r.headers.emplace_back(std::string(h.as_array()[0].as_string()),
                             std::string(h.as_array()[1].as_string()));
    }
    SigningCredentials creds{"AKIDEXAMPLE",
                             SecretString("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                             std::string(doc.at("token").as_string())};
    SigningOptions opt;
    opt.region = std::string(doc.at("region").as_string());
    opt.service = std::string(doc.at("service").as_string());
    opt.time = when;
    auto signed_request = Sign(r, creds, opt);
    ASSERT_TRUE(signed_request.has_value()) << signed_request.error().message;
    std::string ours;
    for (const auto& [name, value] : signed_request->headers) {
      if (name == "Authorization") {
        ours = value;
      }
    }
    EXPECT_EQ(ours, std::string(doc.at("authorization").as_string()))
        << "vendo's canonical request:\n"
        << signed_request->canonical_request;
    ++compared;
  }
  EXPECT_EQ(compared, 200) << "botocore_sign.py produced no cases: is botocore installed?";
}

}  // namespace
}  // namespace vendo::sts
