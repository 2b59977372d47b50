#include "http/http_wire.h"

#include <gtest/gtest.h>

namespace vendo::server {
namespace {

TEST(SerializeResponse, LegacyTextResponse) {
  HttpResponse r;
  r.status = 401;
  r.body = "Error matching signature\r\n";
  r.expires_now = true;
  std::string wire =
      SerializeResponse(r, {"Unauthorized", "Tue, 24 Nov 2026 05:00:00 GMT", "id-1"});
  EXPECT_EQ(wire,
            "HTTP/1.1 401 Unauthorized\r\nServer: vendo\r\nDate: Tue, 24 Nov 2026 05:00:00 GMT\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\nX-Request-Id: id-1\r\n"
            "Expires: Tue, 24 Nov 2026 05:00:00 GMT\r\nContent-Length: 26\r\n\r\n"
            "Error matching signature\r\n");
}

TEST(SerializeResponse, ConnectionHeadersAndNoHeaderInjection) {
  HttpResponse r;
  r.status = 405;
  r.headers.emplace_back("Allow", "GET, POST\r\nSet-Cookie: x=1");
  std::string closing = SerializeResponse(r, {"Method Not Allowed", "d", "i", false, false});
  EXPECT_NE(closing.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(closing.find("Allow: GET, POST  Set-Cookie: x=1\r\n"), std::string::npos);
  EXPECT_EQ(closing.find("\r\nSet-Cookie"), std::string::npos);
  std::string http10 = SerializeResponse(r, {"Method Not Allowed", "d", "i", true, true});
  EXPECT_NE(http10.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_TRUE(http10.ends_with("Content-Length: 0\r\nConnection: keep-alive\r\n\r\n"));
}

}  // namespace
}  // namespace vendo::server
