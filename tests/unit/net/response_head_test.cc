// ResponseHead: exact bytes of response heads (status line, fields, Connection, Content-Length).
#include "net/response_head.h"

#include <gtest/gtest.h>

namespace kalam::net {
namespace {

TEST(ResponseHeadTest, Http11KeptAliveHasNoConnectionField) {
  std::string out;
  AppendStatusLine(11, 200, &out);
  AppendHeaderField("Server", "kalamdb", &out);
  AppendHeaderField("Content-Type", "application/json", &out);
  AppendHeadEnd(11, /*keep_alive=*/true, 17, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nServer: kalamdb\r\nContent-Type: application/json\r\n"
            "Content-Length: 17\r\n\r\n");
}

TEST(ResponseHeadTest, Http11ClosedSaysConnectionClose) {
  std::string out;
  AppendStatusLine(11, 413, &out);
  AppendHeadEnd(11, /*keep_alive=*/false, 0, &out);
  EXPECT_EQ(out, "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseHeadTest, Http10KeptAliveSaysKeepAliveAndClosedSaysNothing) {
  std::string kept;
  AppendStatusLine(10, 404, &kept);
  AppendHeadEnd(10, /*keep_alive=*/true, 2, &kept);
  EXPECT_EQ(kept, "HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n");
  std::string closed;
  AppendStatusLine(10, 200, &closed);
  AppendHeadEnd(10, /*keep_alive=*/false, 2, &closed);
  EXPECT_EQ(closed, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n");
}

TEST(ResponseHeadTest, NoContentLengthWhenNoneIsGivenAndUnknownStatusReason) {
  std::string out;
  AppendStatusLine(11, 204, &out);
  AppendHeadEnd(11, /*keep_alive=*/true, std::nullopt, &out);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\n\r\n");
  std::string odd;
  AppendStatusLine(11, 299, &odd);
  AppendHeadEnd(11, true, 18446744073709551615ull, &odd);
  EXPECT_EQ(odd, "HTTP/1.1 299 <unknown-status>\r\nContent-Length: 18446744073709551615\r\n\r\n");
}

}  // namespace
}  // namespace kalam::net
