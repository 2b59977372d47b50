// vendo-s3-upload: the vendo sample app, like the 2013 TVM sample apps.
//
// It registers the device (anonymous apps) or logs a user in (identity apps), gets temporary
// credentials from vendo, uploads a file under the caller's own prefix of an S3 bucket with
// SigV4, and lists that prefix. It uses nothing but libvendo-client's public API.
//
//   vendo-s3-upload --endpoint https://tvm.example.com --app photos --state ./vendo.json
//                   --username alice --password-file ./pw
//                   --s3 https://s3.eu-west-1.amazonaws.com --region eu-west-1
//                   --bucket my-app-data --file ./photo.jpg
//
// Exit codes: 0 done, 1 failure, 2 bad usage, 3 S3 refused the request (AccessDenied).
#include <vendo/client.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

namespace {

constexpr const char* kUsage =
    "usage: vendo-s3-upload --endpoint URL --app NAME [--protocol v2|2012] --state FILE\n"
    "                       [--username NAME [--password-file FILE]] [--legacy-app-name NAME]\n"
    "                       --s3 URL --region REGION --bucket BUCKET --file FILE\n"
    "                       [--prefix PREFIX] [--ca-file FILE]\n"
    "Without --username the device registers itself (anonymous apps). The password is read\n"
    "from --password-file or standard input. The prefix defaults to the username (identity\n"
    "apps) or the device id (anonymous apps), followed by '/'.\n";

// Percent-encodes an S3 key for the URL path (keeps '/').
std::string EncodeKey(const std::string& key) {
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) != 0 || std::strchr("-_.~/", c) != nullptr) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// The text of every <tag>…</tag> in an S3 XML answer (enough for keys and error codes).
std::vector<std::string> XmlValues(const std::string& xml, const std::string& tag) {
  std::vector<std::string> values;
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  for (auto at = xml.find(open); at != std::string::npos; at = xml.find(open, at)) {
    at += open.size();
    auto end = xml.find(close, at);
    if (end == std::string::npos) {
      break;
    }
    values.push_back(xml.substr(at, end - at));
  }
  return values;
}

int Fail(const std::string& what, const vendo::Error& error) {
  std::fprintf(stderr, "vendo-s3-upload: %s: %s\n", what.c_str(), error.message.c_str());
  return 1;
}

// Sends a signed S3 request; returns the exit code for a refusal, or 0 with `body` filled.
int S3Call(vendo::client::Transport& http, vendo::client::HttpRequest request,
           const vendo::Credentials& creds, const std::string& region, std::string& body) {
  if (auto signed_ok = vendo::client::SignAwsRequest(request, creds, region, "s3",
                                                     std::chrono::system_clock::now());
      !signed_ok) {
    return Fail("signing", signed_ok.error());
  }
  auto reply = http.Send(request, std::chrono::seconds(30));
  if (!reply) {
    return Fail(request.method + " " + request.url, reply.error());
  }
  if (reply->status / 100 != 2) {
    auto code = XmlValues(reply->body, "Code");
    std::fprintf(stderr, "vendo-s3-upload: %s %s: S3 answered %d %s\n", request.method.c_str(),
                 request.url.c_str(), reply->status, code.empty() ? "" : code[0].c_str());
    return reply->status == 403 ? 3 : 1;
  }
  body = std::move(reply->body);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args{{"--protocol", "v2"}};
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!flag.starts_with("--") || i + 1 >= argc) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    args[flag] = argv[++i];
  }
  for (const char* required :
       {"--endpoint", "--app", "--state", "--s3", "--region", "--bucket", "--file"}) {
    if (!args.contains(required)) {
      std::fprintf(stderr, "vendo-s3-upload: %s is required\n%s", required, kUsage);
      return 2;
    }
  }
  bool identity = args.contains("--username");

  // 1. A client for this device, its state kept in a private file.
  vendo::client::ClientOptions options;
  options.endpoint = args["--endpoint"];
  options.app = args["--app"];
  options.protocol = args["--protocol"] == "2012" ? vendo::client::Protocol::kLegacy
                                                  : vendo::client::Protocol::kV2;
  options.mode = identity ? vendo::client::Mode::kIdentity : vendo::client::Mode::kAnonymous;
  options.legacy_app_name = args["--legacy-app-name"];
  auto transport = vendo::client::DefaultTransport(args["--ca-file"]);
  if (!transport) {
    return Fail("transport", transport.error());
  }
  auto client = vendo::client::Client::Create(
      options, vendo::client::FileStateStore(args["--state"]), std::move(*transport));
  if (!client) {
    return Fail("client", client.error());
  }

  // 2. Register, or log in.
  if (identity) {
    std::string password;
    if (args.contains("--password-file")) {
      std::ifstream in(args["--password-file"]);
      std::getline(in, password);
    } else {
      std::getline(std::cin, password);
    }
    if (auto st = (*client)->Login(args["--username"], password); !st) {
      return Fail("login", st.error());
    }
  } else if (auto st = (*client)->Register(); !st) {
    return Fail("register", st.error());
  }

  // 3. Credentials (cached in the state file until near expiry).
  auto creds = (*client)->GetCredentials();
  if (!creds) {
    return Fail("credentials", creds.error());
  }

  // 4. Upload the file under the caller's prefix, then list the prefix.
  std::ifstream file(args["--file"], std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "vendo-s3-upload: cannot read %s\n", args["--file"].c_str());
    return 1;
  }
  std::stringstream content;
  content << file.rdbuf();
  std::string prefix = args.contains("--prefix")
                           ? args["--prefix"]
                           : (identity ? args["--username"] : (*client)->DeviceId()) + "/";
  std::string name = args["--file"].substr(args["--file"].find_last_of('/') + 1);
  std::string s3 = args["--s3"] + "/" + args["--bucket"];
  auto http = vendo::client::DefaultTransport(args["--ca-file"]);
  if (!http) {
    return Fail("transport", http.error());
  }
  std::string body;
  vendo::client::HttpRequest put{.method = "PUT",
                                 .url = s3 + "/" + EncodeKey(prefix + name),
                                 .headers = {{"Content-Type", "application/octet-stream"}},
                                 .body = content.str()};
  if (int code = S3Call(**http, put, *creds, args["--region"], body); code != 0) {
    return code;
  }
  std::printf("uploaded s3://%s/%s%s\n", args["--bucket"].c_str(), prefix.c_str(), name.c_str());
  vendo::client::HttpRequest list{.method = "GET",
                                  .url = s3 + "?list-type=2&prefix=" + EncodeKey(prefix)};
  if (int code = S3Call(**http, list, *creds, args["--region"], body); code != 0) {
    return code;
  }
  for (const auto& key : XmlValues(body, "Key")) {
    std::printf("  %s\n", key.c_str());
  }
  return 0;
}
