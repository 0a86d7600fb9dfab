// Tests for the incremental multipart/form-data parser: any split of the body gives the same
// parts, and malformed bodies fail with a message.
#include "net/multipart.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kalam::net {
namespace {

using namespace std::string_literals;

struct Part {
  MultipartPartHeaders h;
  std::string data;
  bool ended = false;
};

class Collect : public MultipartSink {
 public:
  Status OnPartBegin(const MultipartPartHeaders& h) override {
    parts.push_back({h, "", false});
    return Status::OK();
  }
  Status OnPartData(std::string_view d) override {
    parts.back().data.append(d);
    return Status::OK();
  }
  Status OnPartEnd() override {
    parts.back().ended = true;
    return Status::OK();
  }
  std::vector<Part> parts;
};

const std::string kBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"sql\"\r\n\r\n"
    "INSERT INTO t VALUES (FILE(\"a\"))\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file:a\"; filename=\"my \\\"doc\\\".bin\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "\r\n--Xy\r\n-XyZ binary \x00\xff end\r\n"
    "--XyZ--\r\n"s;

Status ParseInPieces(const std::string& body, size_t piece, Collect* sink) {
  MultipartParser p("XyZ", sink);
  for (size_t at = 0; at < body.size(); at += piece) {
    KALAM_RETURN_IF_ERROR(p.Feed(std::string_view(body).substr(at, piece)));
  }
  return p.Finish();
}

TEST(MultipartParserTest, EverySplitOfTheBodyGivesTheSameParts) {
  const std::string& body = kBody;
  for (size_t piece : {1, 2, 3, 5, 7, 13, 64, 100000}) {
    Collect c;
    ASSERT_TRUE(ParseInPieces(body, piece, &c).ok()) << piece;
    ASSERT_EQ(c.parts.size(), 2u) << piece;
    EXPECT_EQ(c.parts[0].h.name, "sql");
    EXPECT_FALSE(c.parts[0].h.filename.has_value());
    EXPECT_EQ(c.parts[0].data, "INSERT INTO t VALUES (FILE(\"a\"))");
    EXPECT_EQ(c.parts[1].h.name, "file:a");
    EXPECT_EQ(*c.parts[1].h.filename, "my \"doc\".bin");
    EXPECT_EQ(c.parts[1].h.content_type, "application/octet-stream");
    // Near-boundaries inside the data are data.
    EXPECT_EQ(c.parts[1].data, "\r\n--Xy\r\n-XyZ binary \x00\xff end"s);
    EXPECT_TRUE(c.parts[1].ended);
  }
}

TEST(MultipartParserTest, PreambleAndEpilogueAreIgnoredAndEmptyPartsWork) {
  Collect c;
  MultipartParser p("b", &c);
  ASSERT_TRUE(p.Feed("preamble text\r\n--b\r\nContent-Disposition: form-data; name=x\r\n\r\n"
                     "\r\n--b--\r\nepilogue --b\r\n")
                  .ok());
  ASSERT_TRUE(p.Finish().ok());
  ASSERT_EQ(c.parts.size(), 1u);
  EXPECT_EQ(c.parts[0].h.name, "x");
  EXPECT_EQ(c.parts[0].data, "");
}

TEST(MultipartParserTest, MissingClosingBoundaryFails) {
  Collect c;
  MultipartParser p("b", &c);
  ASSERT_TRUE(p.Feed("--b\r\nContent-Disposition: form-data; name=x\r\n\r\nabc").ok());
  Status st = p.Finish();
  EXPECT_EQ(st.message(), "missing closing boundary");
}

TEST(MultipartParserTest, BodyWithoutTheBoundaryFails) {
  Collect c;
  MultipartParser p("b", &c);
  ASSERT_TRUE(p.Feed("no boundary anywhere").ok());
  EXPECT_EQ(p.Finish().message(), "missing closing boundary");
  EXPECT_TRUE(c.parts.empty());
}

TEST(MultipartParserTest, OversizedHeadersFail) {
  Collect c;
  MultipartParser::Limits limits;
  limits.max_header_bytes = 64;
  MultipartParser p("b", &c, limits);
  Status st = p.Feed("--b\r\nContent-Disposition: form-data; name=x\r\nX-Pad: " +
                     std::string(100, 'a'));
  EXPECT_EQ(st.message(), "part headers too long");
}

TEST(MultipartParserTest, HeaderInjectionAndMalformedHeadersFail) {
  auto fails = [](const std::string& headers) {
    Collect c;
    MultipartParser p("b", &c);
    Status st = p.Feed("--b\r\n" + headers + "\r\n\r\ndata\r\n--b--");
    if (st.ok()) st = p.Finish();
    return st.ok() ? std::string("OK") : st.message();
  };
  EXPECT_EQ(fails("Content-Disposition: form-data; name=\"a\rX: y\""),
            "control character in a part header");
  EXPECT_EQ(fails("Content-Disposition: form-data; name=\"a\nX\""),
            "control character in a part header");
  EXPECT_EQ(fails("Content-Disposition: attachment; name=\"a\""),
            "part disposition is not form-data");
  EXPECT_EQ(fails("Content-Type: text/plain"), "part without Content-Disposition");
  EXPECT_EQ(fails("Content-Disposition: form-data; filename=\"f\""), "part has no name");
  EXPECT_EQ(fails("Content-Disposition: form-data; name=\"unterminated"),
            "unterminated quoted parameter 'name'");
  EXPECT_EQ(fails("no colon here"), "malformed part header line");
  EXPECT_EQ(fails("Content-Disposition: form-data; name=a"), "OK");
}

TEST(MultipartParserTest, SinkErrorsStopTheParse) {
  class Refuse : public Collect {
   public:
    Status OnPartData(std::string_view) override { return Status::InvalidArgument("too big"); }
  } c;
  MultipartParser p("b", &c);
  Status st = p.Feed("--b\r\nContent-Disposition: form-data; name=x\r\n\r\n" +
                     std::string(1000, 'z'));
  EXPECT_EQ(st.message(), "too big");
}

TEST(MultipartBoundaryTest, ParsesQuotedAndBareBoundaries) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\""), "a b");
  EXPECT_EQ(MultipartBoundary("multipart/form-data").status().message(),
            "missing boundary in Content-Type");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=").status().message(),
            "empty boundary");
  EXPECT_EQ(MultipartBoundary("application/json").status().message(),
            "Content-Type is not multipart/form-data");
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'x'))
                .status()
                .message(),
            "boundary longer than 70 characters");
  EXPECT_TRUE(IsMultipartFormData("MULTIPART/FORM-DATA; boundary=x"));
  EXPECT_FALSE(IsMultipartFormData("multipart/mixed"));
}

}  // namespace
}  // namespace kalam::net
