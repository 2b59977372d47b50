// The AWS SigV4 suite in ../shared/test-vectors/sigv4, stage by stage: canonical request,
// string to sign and signature, for header and query signing.
#include "sts/sigv4.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vendo::sts {
namespace {

namespace fs = std::filesystem;

const fs::path kSuite = fs::path(VENDO_SHARED_DIR) / "test-vectors" / "sigv4";

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Cases() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kSuite, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "context.json")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// request.txt: request line, headers (continuation lines start with whitespace), blank line,
// body.
RequestToSign ParseRequest(const std::string& text) {
  RequestToSign r;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  std::size_t first = line.find(' '), last = line.rfind(' ');
  r.method = line.substr(0, first);
  std::string target = line.substr(first + 1, last - first - 1);
  std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  while (std::getline(in, line) && !line.empty()) {
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {
      r.headers.back().second += " " + line;
      continue;
    }
    std::size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  r.body = body;
  return r;
}

class SigV4Suite : public ::testing::TestWithParam<std::string> {};

TEST(SigV4SuitePresent, HasEveryCase) { EXPECT_EQ(Cases().size(), 38u) << "suite at " << kSuite; }

TEST_P(SigV4Suite, EveryStageMatches) {
  fs::path dir = kSuite / GetParam();
  auto ctx = boost::json::parse(Read(dir / "context.json")).as_object();
  const auto& c = ctx.at("credentials").as_object();
  SigningCredentials creds{std::string(c.at("access_key_id").as_string()),
                           SecretString(std::string(c.at("secret_access_key").as_string())),
                           c.contains("token") ? std::string(c.at("token").as_string()) : ""};
  std::tm tm{};
  std::istringstream ts(std::string(ctx.at("timestamp").as_string()));
  ts >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  SigningOptions opt;
  opt.region = std::string(ctx.at("region").as_string());
  opt.service = std::string(ctx.at("service").as_string());
  opt.time = std::chrono::system_clock::from_time_t(timegm(&tm));
  opt.normalize_path = ctx.at("normalize").as_bool();
  opt.sign_body = ctx.contains("sign_body") && ctx.at("sign_body").as_bool();
  opt.omit_session_token =
      ctx.contains("omit_session_token") && ctx.at("omit_session_token").as_bool();
  opt.expires = std::chrono::seconds(ctx.at("expiration_in_seconds").as_int64());
  RequestToSign request = ParseRequest(Read(dir / "request.txt"));

  for (auto [location, prefix] : {std::pair{SignatureLocation::kHeaders, "header-"},
                                  std::pair{SignatureLocation::kQuery, "query-"}}) {
    SCOPED_TRACE(prefix);
    opt.location = location;
    auto signed_request = Sign(request, creds, opt);
    ASSERT_TRUE(signed_request.has_value()) << signed_request.error().message;
    EXPECT_EQ(signed_request->canonical_request,
              Read(dir / (std::string(prefix) + "canonical-request.txt")));
    EXPECT_EQ(signed_request->string_to_sign,
              Read(dir / (std::string(prefix) + "string-to-sign.txt")));
    EXPECT_EQ(signed_request->signature, Read(dir / (std::string(prefix) + "signature.txt")));
  }
}

INSTANTIATE_TEST_SUITE_P(Aws, SigV4Suite, ::testing::ValuesIn(Cases()), [](const auto& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
});

TEST(SigV4, EncodingRules) {
  EXPECT_EQ(UriEncode("a b/c~", true), "a%20b/c~");
  EXPECT_EQ(UriEncode("a b/c~", false), "a%20b%2Fc~");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4", false), "%E1%88%B4");
  EXPECT_EQ(*CanonicalQuery("b=2&a=1&a=0", {}), "a=0&a=1&b=2");
  EXPECT_FALSE(CanonicalQuery("a=%zz", {}).has_value());
}

}  // namespace
}  // namespace vendo::sts
