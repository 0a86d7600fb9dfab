// Tests for S3Store: configuration parsing; the exact shape of the requests it sends, retries and
// timeouts (against a scripted HTTP server); and every operation against a real S3-compatible
// server (moto_server, with signature checking on, so each request's SigV4 signature is verified
// by an independent implementation), over http and over https with certificate verification.
#include "filestore/s3_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "filestore/http_client.h"
#include "filestore/s3_signer.h"
#include "filestore/s3_xml.h"
#include "s3_test_support.h"

namespace kalam::filestore {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using testing::FakeHttpServer;
using testing::MotoServer;

constexpr char kBucket[] = "kalam-test";

StoreConfig S3Config(const std::string& endpoint, const std::string& base) {
  StoreConfig c;
  c.type = "s3";
  c.endpoint = endpoint;
  c.base_directory = base;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "secret";
  c.timeout_ms = 5000;
  return c;
}

// A file holding `data` under a fresh temporary directory, removed by the destructor.
class TempFile {
 public:
  explicit TempFile(const std::string& data) {
    char tmpl[] = "/tmp/kalam-s3file-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/upload.bin";
    std::ofstream(path_, std::ios::binary) << data;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

// Bytes that differ from part to part (so a misplaced part shows).
std::string PatternBytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 2654435761u) >> 13);
  return s;
}

// The value of a read, or "<error: ...>" (so that a failed read shows why in the assertion).
std::string Got(const Result<std::string>& r) {
  return r.ok() ? *r : "<error: " + r.status().ToString() + ">";
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

std::string OpenError(const StoreConfig& c) {
  auto r = S3Store::Open(c);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(S3StoreConfigTest, ParsesBucketAndPrefixFromTheBaseDirectory) {
  auto s = S3Store::Open(S3Config("http://127.0.0.1:9000", "s3://my-bucket/some/prefix/"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->bucket(), "my-bucket");
  EXPECT_EQ((*s)->prefix(), "some/prefix");
  EXPECT_EQ((*s)->Describe("a/seg-1.parquet"), "s3://my-bucket/some/prefix/a/seg-1.parquet");

  StoreConfig c = S3Config("", "");
  c.bucket = "other-bucket";
  auto t = S3Store::Open(c);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->prefix(), "");
  EXPECT_EQ((*t)->Describe("k"), "s3://other-bucket/k");

  c.base_directory = "s3://other-bucket";
  EXPECT_TRUE(S3Store::Open(c).ok());
  c.base_directory = "/plain/prefix/";
  auto u = S3Store::Open(c);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ((*u)->prefix(), "plain/prefix");
}

TEST(S3StoreConfigTest, AddressingIsVirtualHostForAwsAndPathStyleOtherwise) {
  StoreConfig c = S3Config("", "s3://my-bucket/pre fix");
  c.region = "eu-west-1";
  auto aws = S3Store::Open(c);
  ASSERT_TRUE(aws.ok()) << aws.status().ToString();
  EXPECT_EQ((*aws)->ObjectUrl("a/b c$.parquet"),
            "https://my-bucket.s3.eu-west-1.amazonaws.com/pre%20fix/a/b%20c%24.parquet");
  // A dotted bucket cannot be a virtual host under the *.s3 certificate: path style.
  c.base_directory = "s3://my.dotted.bucket";
  auto dotted = S3Store::Open(c);
  ASSERT_TRUE(dotted.ok());
  EXPECT_EQ((*dotted)->ObjectUrl("k"), "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k");
  auto custom = S3Store::Open(S3Config("http://127.0.0.1:9000/", "s3://my-bucket"));
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ((*custom)->ObjectUrl("k"), "http://127.0.0.1:9000/my-bucket/k");
  auto tls_default_port = S3Store::Open(S3Config("https://minio.internal:443", "s3://my-bucket"));
  ASSERT_TRUE(tls_default_port.ok());
  EXPECT_EQ((*tls_default_port)->ObjectUrl("k"), "https://minio.internal/my-bucket/k");
  auto ipv6 = S3Store::Open(S3Config("http://[::1]:9000", "s3://my-bucket"));
  ASSERT_TRUE(ipv6.ok());
  EXPECT_EQ((*ipv6)->ObjectUrl("k"), "http://[::1]:9000/my-bucket/k");
}

TEST(S3StoreConfigTest, RefusesBadConfigurations) {
  EXPECT_EQ(OpenError(S3Config("", "")),
            "S3 storage needs a bucket: set base_directory to s3://bucket[/prefix] or give the "
            "bucket");
  StoreConfig c = S3Config("", "s3://a-bucket");
  c.bucket = "b-bucket";
  EXPECT_EQ(OpenError(c),
            "S3 storage names bucket 'b-bucket' but its base directory 's3://a-bucket' names "
            "bucket 'a-bucket'");
  EXPECT_EQ(OpenError(S3Config("", "s3://Bad_Bucket")),
            "S3 bucket name 'Bad_Bucket' may hold only lower-case letters, digits, '.' and '-'");
  EXPECT_EQ(OpenError(S3Config("", "s3://ab")),
            "S3 bucket name 'ab' must be 3 to 63 characters long");
  EXPECT_EQ(OpenError(S3Config("", "s3://-bucket")),
            "S3 bucket name '-bucket' must start and end with a letter or digit");
  EXPECT_NE(OpenError(S3Config("", "s3://bucket/../escape")).find("'..' segment"),
            std::string::npos);
  EXPECT_NE(OpenError(S3Config("", "s3://bucket/a//b")).find("empty path segment"),
            std::string::npos);
  c = S3Config("", "s3://bucket");
  c.secret_access_key.clear();
  EXPECT_EQ(OpenError(c),
            "S3 storage needs credentials: set both the access key id and the secret access key");
  c = S3Config("", "s3://bucket");
  c.access_key_id.clear();
  EXPECT_FALSE(S3Store::Open(c).ok());
  c = S3Config("", "s3://bucket");
  c.region = "US EAST";
  EXPECT_FALSE(S3Store::Open(c).ok());
  c = S3Config("", "s3://bucket");
  c.timeout_ms = 0;
  EXPECT_FALSE(S3Store::Open(c).ok());
  for (const char* endpoint : {"ftp://host", "127.0.0.1:9000", "http://", "http://host:0",
                               "http://host:99999", "http://host:", "http://host/path",
                               "http://user@host", "http://[::1", "http://host?x"}) {
    EXPECT_EQ(S3Store::Open(S3Config(endpoint, "s3://bucket")).status().code(),
              StatusCode::kInvalidArgument)
        << endpoint;
  }
  S3Options o;
  o.list_page_size = 0;
  EXPECT_FALSE(S3Store::Open(S3Config("", "s3://bucket"), o).ok());
  o.list_page_size = 1001;
  EXPECT_FALSE(S3Store::Open(S3Config("", "s3://bucket"), o).ok());
  o = S3Options();
  o.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(S3Store::Open(S3Config("", "s3://bucket"), o).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(S3StoreConfigTest, OpenObjectStoreBuildsAnS3Store) {
  auto s = OpenObjectStore(S3Config("http://127.0.0.1:1", "s3://bucket/p"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->Describe("k"), "s3://bucket/p/k");
  StoreConfig c = S3Config("", "s3://bucket");
  c.access_key_id.clear();
  EXPECT_EQ(OpenObjectStore(c).status().code(), StatusCode::kInvalidArgument);
}

TEST(S3StoreConfigTest, InvalidKeysAreRefusedBeforeAnyRequest) {
  FakeHttpServer server({{200, ""}});
  auto s =
      S3Store::Open(S3Config("http://127.0.0.1:" + std::to_string(server.port()), "s3://bucket"));
  ASSERT_TRUE(s.ok());
  for (const std::string& key : {"../x"s, "/x"s, "a//b"s, "a\0b"s, ""s, "a\\b"s}) {
    EXPECT_EQ((*s)->Put(key, "x").code(), StatusCode::kInvalidArgument);
    EXPECT_EQ((*s)->Get(key).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ((*s)->Delete(key).code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ((*s)->List("../").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.request_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Request shape, retries and timeouts against a scripted server
// ---------------------------------------------------------------------------------------------

class S3ScriptedTest : public ::testing::Test {
 protected:
  std::unique_ptr<S3Store> Open(FakeHttpServer& server, S3Options options = {},
                                int timeout_ms = 5000) {
    options.retry_backoff = std::chrono::milliseconds(0);
    options.clock = &clock_;
    StoreConfig c =
        S3Config("http://127.0.0.1:" + std::to_string(server.port()), "s3://bucket/pre fix");
    c.timeout_ms = timeout_ms;
    auto s = S3Store::Open(c, options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  static std::string Header(const std::string& head, const std::string& name) {
    size_t at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "<missing>";
    size_t start = at + 4 + name.size();
    return head.substr(start, head.find("\r\n", start) - start);
  }

  FakeClock clock_{1767225600000000};  // 2026-01-01T00:00:00Z
};

TEST_F(S3ScriptedTest, PutSendsAPathStyleSignedRequest) {
  FakeHttpServer server({{200, ""}});
  auto store = Open(server);
  ASSERT_TRUE(store->Put("a b/c+d$.parquet", "payload").ok());
  ASSERT_EQ(server.request_count(), 1);
  const std::string head = server.heads()[0];
  EXPECT_EQ(head.substr(0, head.find("\r\n")),
            "PUT /bucket/pre%20fix/a%20b/c%2Bd%24.parquet HTTP/1.1");
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  EXPECT_EQ(Header(head, "host"), host);
  EXPECT_EQ(Header(head, "x-amz-date"), "20260101T000000Z");
  EXPECT_EQ(Header(head, "x-amz-content-sha256"), Sha256Hex("payload"));
  EXPECT_EQ(Header(head, "Content-Length"), "7");
  EXPECT_EQ(server.bodies()[0], "payload");

  // The Authorization header is exactly what SignV4 computes for this request.
  SigV4Request expected;
  expected.method = "PUT";
  expected.canonical_uri = "/bucket/pre%20fix/a%20b/c%2Bd%24.parquet";
  expected.headers = {{"host", host},
                      {"x-amz-content-sha256", Sha256Hex("payload")},
                      {"x-amz-date", "20260101T000000Z"}};
  expected.payload_sha256 = Sha256Hex("payload");
  EXPECT_EQ(Header(head, "authorization"),
            SignV4(expected, {"AKIDEXAMPLE", "secret", ""}, "us-east-1", "s3", "20260101T000000Z")
                .authorization);
}

TEST_F(S3ScriptedTest, SessionTokenIsSentAndSigned) {
  FakeHttpServer server({{200, "body"}});
  S3Options o;
  o.retry_backoff = std::chrono::milliseconds(0);
  o.clock = &clock_;
  StoreConfig c = S3Config("http://127.0.0.1:" + std::to_string(server.port()), "s3://bucket");
  c.session_token = "FQoGZXIvYXdzE//token";
  auto store = S3Store::Open(c, o);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Get("k").ok());
  const std::string head = server.heads()[0];
  EXPECT_EQ(Header(head, "x-amz-security-token"), "FQoGZXIvYXdzE//token");
  EXPECT_NE(Header(head, "authorization")
                .find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"),
            std::string::npos)
      << head;
}

TEST_F(S3ScriptedTest, ListSendsListObjectsV2WithTheFullPrefixAndFollowsTokens) {
  FakeHttpServer server({
      {200,
       "<ListBucketResult><IsTruncated>true</IsTruncated>"
       "<Contents><Key>pre fix/t/a</Key><Size>1</Size></Contents>"
       "<NextContinuationToken>tok/1+=</NextContinuationToken></ListBucketResult>"},
      {200,
       "<ListBucketResult><IsTruncated>false</IsTruncated>"
       "<Contents><Key>pre fix/t/b</Key><Size>22</Size></Contents></ListBucketResult>"},
  });
  S3Options o;
  o.list_page_size = 1;
  auto store = Open(server, o);
  auto listed = store->List("t/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "t/a");
  EXPECT_EQ((*listed)[1].key, "t/b");
  EXPECT_EQ((*listed)[1].size_bytes, 22u);
  auto heads = server.heads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0].substr(0, heads[0].find("\r\n")),
            "GET /bucket?list-type=2&max-keys=1&prefix=pre%20fix%2Ft%2F HTTP/1.1");
  EXPECT_EQ(heads[1].substr(0, heads[1].find("\r\n")),
            "GET /bucket?continuation-token=tok%2F1%2B%3D&list-type=2&max-keys=1&"
            "prefix=pre%20fix%2Ft%2F HTTP/1.1");
}

TEST_F(S3ScriptedTest, ListRefusesKeysOutsideThePrefixAndRepeatedTokens) {
  FakeHttpServer outside({{200,
                           "<ListBucketResult><IsTruncated>false</IsTruncated><Contents>"
                           "<Key>elsewhere/x</Key><Size>1</Size></Contents></ListBucketResult>"}});
  auto a = Open(outside);
  EXPECT_EQ(a->List("").status().code(), StatusCode::kIoError);

  FakeHttpServer loop({{200,
                        "<ListBucketResult><IsTruncated>true</IsTruncated>"
                        "<NextContinuationToken>same</NextContinuationToken></ListBucketResult>"}});
  auto b = Open(loop);
  auto r = b->List("");
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("same continuation token twice"), std::string::npos);
  EXPECT_EQ(loop.request_count(), 2);

  FakeHttpServer garbage({{200, "<html>not xml"}});
  auto c = Open(garbage);
  EXPECT_EQ(c->List("").status().code(), StatusCode::kIoError);
}

TEST_F(S3ScriptedTest, ServerErrorsAreRetriedThenSucceed) {
  FakeHttpServer server({{503, "<Error><Code>SlowDown</Code></Error>"},
                         {500, ""},
                         {200, "the object"}});
  auto store = Open(server);
  auto got = store->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "the object");
  EXPECT_EQ(server.request_count(), 3);
}

TEST_F(S3ScriptedTest, PersistentServerErrorsGiveUpAfterFourAttempts) {
  FakeHttpServer server(
      {{500, "<Error><Code>InternalError</Code><Message>We encountered an internal error."
             "</Message></Error>"}});
  auto store = Open(server);
  Status st = store->Put("k", "v");
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_EQ(st.message(), "S3 PUT http://127.0.0.1:" + std::to_string(server.port()) +
                              "/bucket/pre%20fix/k failed: HTTP 500 InternalError: We "
                              "encountered an internal error. (after 4 attempts)");
  EXPECT_EQ(server.request_count(), 4);
}

TEST_F(S3ScriptedTest, ClientErrorsAreNotRetried) {
  FakeHttpServer server({{403,
                          "<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
                          "</Error>"}});
  auto store = Open(server);
  auto got = store->Get("k");
  EXPECT_EQ(got.status().code(), StatusCode::kIoError);
  EXPECT_EQ(got.status().message(), "S3 GET http://127.0.0.1:" + std::to_string(server.port()) +
                                        "/bucket/pre%20fix/k failed: HTTP 403 AccessDenied: "
                                        "Access Denied");
  EXPECT_EQ(server.request_count(), 1);
}

TEST_F(S3ScriptedTest, NotFoundMeansAMissingKeyNotAMissingBucket) {
  FakeHttpServer key({{404, "<Error><Code>NoSuchKey</Code><Message>nope</Message></Error>"}});
  auto a = Open(key);
  EXPECT_EQ(a->Get("k").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(a->Get("k").status().message(), "object 's3://bucket/pre fix/k' does not exist");
  EXPECT_TRUE(a->Delete("k").ok());

  FakeHttpServer bucket({{404, "<Error><Code>NoSuchBucket</Code><Message>The specified bucket "
                               "does not exist</Message></Error>"}});
  auto b = Open(bucket);
  auto got = b->Get("k");
  EXPECT_EQ(got.status().code(), StatusCode::kIoError);
  EXPECT_NE(got.status().message().find("HTTP 404 NoSuchBucket"), std::string::npos);
  EXPECT_EQ(b->Delete("k").code(), StatusCode::kIoError);
}

TEST_F(S3ScriptedTest, ConnectionRefusedIsRetriedThenReported) {
  uint16_t port = testing::FreePort();  // nothing listens there
  S3Options o;
  o.retry_backoff = std::chrono::milliseconds(0);
  auto store =
      S3Store::Open(S3Config("http://127.0.0.1:" + std::to_string(port), "s3://bucket"), o);
  ASSERT_TRUE(store.ok());
  Status st = (*store)->Put("k", "v");
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_EQ(st.message(), "S3 PUT http://127.0.0.1:" + std::to_string(port) +
                              "/bucket/k failed after 4 attempts: connect: Connection refused");
}

TEST_F(S3ScriptedTest, ASilentServerTimesOut) {
  FakeHttpServer server({{200, "", /*hang=*/true}});
  S3Options o;
  o.max_retries = 1;
  auto store = Open(server, o, /*timeout_ms=*/300);
  const auto start = std::chrono::steady_clock::now();
  auto got = store->Get("k");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(got.status().code(), StatusCode::kIoError);
  // The deadline covers the whole exchange; which step it lands in ("reading response: " or
  // earlier) depends on scheduling, so only the outcome is checked.
  EXPECT_NE(got.status().message().find("failed after 2 attempts: "), std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find("timed out after 300 ms"), std::string::npos)
      << got.status().message();
  EXPECT_EQ(server.request_count(), 2);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(S3StoreConfigTest, PartSizeMustBeUpToFiveGiB) {
  S3Options o;
  o.part_size_bytes = 0;
  EXPECT_EQ(S3Store::Open(S3Config("http://127.0.0.1:9", "s3://bucket"), o).status().message(),
            "S3 part size must be 1 byte .. 5 GiB");
  o.part_size_bytes = (5ull << 30) + 1;
  EXPECT_EQ(S3Store::Open(S3Config("http://127.0.0.1:9", "s3://bucket"), o).status().message(),
            "S3 part size must be 1 byte .. 5 GiB");
}

// ---- streaming: PutFile (single PUT / multipart), GetRange, Size ----

const char kInitiated[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult "
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>bucket</Bucket><Key>pre fix/k</Key>"
    "<UploadId>up/1</UploadId></InitiateMultipartUploadResult>";

std::string RequestLine(const std::string& head) { return head.substr(0, head.find("\r\n")); }

TEST_F(S3ScriptedTest, PutFileUpToOnePartIsASinglePut) {
  FakeHttpServer server({{200, ""}});
  S3Options o;
  o.part_size_bytes = 4;
  auto store = Open(server, o);
  TempFile file("abcd");
  ASSERT_TRUE(store->PutFile("k", file.path()).ok());
  ASSERT_EQ(server.request_count(), 1);
  EXPECT_EQ(RequestLine(server.heads()[0]), "PUT /bucket/pre%20fix/k HTTP/1.1");
  EXPECT_EQ(Header(server.heads()[0], "x-amz-content-sha256"), Sha256Hex("abcd"));
  EXPECT_EQ(server.bodies()[0], "abcd");
}

TEST_F(S3ScriptedTest, PutFileAboveOnePartIsAMultipartUploadOfPartsInOrder) {
  FakeHttpServer server({{200, kInitiated},
                         {200, "", false, "ETag: \"e1\"\r\n"},
                         {200, "", false, "ETag: \"e2\"\r\n"},
                         {200, "", false, "ETag: \"e3\"\r\n"},
                         {200, "<CompleteMultipartUploadResult><Key>pre fix/k</Key>"
                               "</CompleteMultipartUploadResult>"}});
  S3Options o;
  o.part_size_bytes = 4;
  auto store = Open(server, o);
  TempFile file("abcdefghij");
  Status st = store->PutFile("k", file.path());
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(server.request_count(), 5);
  const auto heads = server.heads();
  const auto bodies = server.bodies();
  EXPECT_EQ(RequestLine(heads[0]), "POST /bucket/pre%20fix/k?uploads= HTTP/1.1");
  EXPECT_EQ(RequestLine(heads[1]), "PUT /bucket/pre%20fix/k?partNumber=1&uploadId=up%2F1 HTTP/1.1");
  EXPECT_EQ(RequestLine(heads[2]), "PUT /bucket/pre%20fix/k?partNumber=2&uploadId=up%2F1 HTTP/1.1");
  EXPECT_EQ(RequestLine(heads[3]), "PUT /bucket/pre%20fix/k?partNumber=3&uploadId=up%2F1 HTTP/1.1");
  EXPECT_EQ(bodies[1], "abcd");
  EXPECT_EQ(bodies[2], "efgh");
  EXPECT_EQ(bodies[3], "ij");
  // Each part's payload is hashed and signed on its own.
  EXPECT_EQ(Header(heads[1], "x-amz-content-sha256"), Sha256Hex("abcd"));
  EXPECT_EQ(Header(heads[3], "x-amz-content-sha256"), Sha256Hex("ij"));
  EXPECT_EQ(RequestLine(heads[4]), "POST /bucket/pre%20fix/k?uploadId=up%2F1 HTTP/1.1");
  EXPECT_EQ(bodies[4],
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"
            "<Part><PartNumber>3</PartNumber><ETag>\"e3\"</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST_F(S3ScriptedTest, AFailedPartAbortsTheUpload) {
  FakeHttpServer server(
      {{200, kInitiated},
       {200, "", false, "ETag: \"e1\"\r\n"},
       {403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"},
       {204, ""}});
  S3Options o;
  o.part_size_bytes = 4;
  auto store = Open(server, o);
  TempFile file("abcdefghij");
  Status st = store->PutFile("k", file.path());
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_EQ(st.message(), "S3 PUT http://127.0.0.1:" + std::to_string(server.port()) +
                              "/bucket/pre%20fix/k?partNumber=2&uploadId=up%2F1 failed: HTTP 403 "
                              "AccessDenied: Access Denied");
  ASSERT_EQ(server.request_count(), 4);
  EXPECT_EQ(RequestLine(server.heads()[3]), "DELETE /bucket/pre%20fix/k?uploadId=up%2F1 HTTP/1.1");
}

TEST_F(S3ScriptedTest, ACompletionFailingInsideA200IsAFailureAndAFailedAbortIsReported) {
  FakeHttpServer server(
      {{200, kInitiated},
       {200, "", false, "ETag: \"e1\"\r\n"},
       {200, "", false, "ETag: \"e2\"\r\n"},
       {200, "<Error><Code>InternalError</Code><Message>boom</Message></Error>"},
       {403, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"}});
  S3Options o;
  o.part_size_bytes = 4;
  auto store = Open(server, o);
  TempFile file("abcdefgh");
  Status st = store->PutFile("k", file.path());
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  EXPECT_EQ(st.message(), "S3 POST " + base +
                              "/bucket/pre%20fix/k?uploadId=up%2F1 failed: HTTP 200 InternalError: "
                              "boom; aborting the multipart upload failed too: S3 DELETE " +
                              base +
                              "/bucket/pre%20fix/k?uploadId=up%2F1 failed: HTTP 403 "
                              "AccessDenied: no");
  EXPECT_EQ(server.request_count(), 5);
}

TEST_F(S3ScriptedTest, AMissingUploadIdOrETagIsAnError) {
  FakeHttpServer no_id({{200, "<InitiateMultipartUploadResult/>"}});
  S3Options o;
  o.part_size_bytes = 4;
  auto a = Open(no_id, o);
  TempFile file("abcdefgh");
  EXPECT_EQ(a->PutFile("k", file.path()).message(),
            "S3 POST http://127.0.0.1:" + std::to_string(no_id.port()) +
                "/bucket/pre%20fix/k?uploads= returned no UploadId: "
                "<InitiateMultipartUploadResult/>");
  EXPECT_EQ(no_id.request_count(), 1);

  FakeHttpServer no_etag({{200, kInitiated}, {200, ""}, {204, ""}});
  auto b = Open(no_etag, o);
  EXPECT_EQ(b->PutFile("k", file.path()).message(),
            "S3 PUT http://127.0.0.1:" + std::to_string(no_etag.port()) +
                "/bucket/pre%20fix/k?partNumber=1&uploadId=up%2F1 returned no ETag for part 1");
  ASSERT_EQ(no_etag.request_count(), 3);
  EXPECT_EQ(RequestLine(no_etag.heads()[2]), "DELETE /bucket/pre%20fix/k?uploadId=up%2F1 HTTP/1.1");
}

TEST_F(S3ScriptedTest, PutFileOfAMissingFileSendsNothing) {
  FakeHttpServer server({{200, ""}});
  auto store = Open(server);
  Status st = store->PutFile("k", "/nonexistent/kalam/file");
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_EQ(st.message(),
            "cannot open '/nonexistent/kalam/file' for reading: No such file or directory");
  EXPECT_EQ(server.request_count(), 0);
}

TEST_F(S3ScriptedTest, GetRangeSendsASignedRangeAndIsBounded) {
  FakeHttpServer server({{206, "cdef"}});
  auto store = Open(server);
  auto got = store->GetRange("k", 2, 4);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "cdef");
  const std::string head = server.heads()[0];
  EXPECT_EQ(RequestLine(head), "GET /bucket/pre%20fix/k HTTP/1.1");
  EXPECT_EQ(Header(head, "range"), "bytes=2-5");
  EXPECT_NE(Header(head, "authorization").find("SignedHeaders=host;range;x-amz-content-sha256;"
                                               "x-amz-date,"),
            std::string::npos)
      << Header(head, "authorization");

  // A server that ignores the range and sends more than was asked for is refused, not buffered.
  FakeHttpServer ignoring({{200, "0123456789"}});
  S3Options o;
  o.max_retries = 0;
  auto b = Open(ignoring, o);
  EXPECT_EQ(b->GetRange("k", 0, 4).status().message(),
            "S3 GET http://127.0.0.1:" + std::to_string(ignoring.port()) +
                "/bucket/pre%20fix/k failed after 1 attempt: reading response: response body "
                "exceeds 4 bytes");
  // One that sends the whole (small) object is sliced.
  FakeHttpServer whole({{200, "0123"}});
  auto c = Open(whole);
  EXPECT_EQ(Got(c->GetRange("k", 1, 4)), "123");

  FakeHttpServer past_end({{416, "<Error><Code>InvalidRange</Code></Error>"}});
  auto d = Open(past_end);
  EXPECT_EQ(Got(d->GetRange("k", 100, 4)), "");
  FakeHttpServer missing({{404, "<Error><Code>NoSuchKey</Code></Error>"}});
  auto e = Open(missing);
  EXPECT_EQ(e->GetRange("k", 0, 4).status().code(), StatusCode::kNotFound);
}

TEST_F(S3ScriptedTest, SizeIsAHead) {
  FakeHttpServer server({{200, "", false, "Content-Length: 123456789012\r\n"}});
  auto store = Open(server);
  auto size = store->Size("k");
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, 123456789012u);
  EXPECT_EQ(RequestLine(server.heads()[0]), "HEAD /bucket/pre%20fix/k HTTP/1.1");

  FakeHttpServer missing({{404, ""}});
  auto b = Open(missing);
  EXPECT_EQ(b->Size("k").status().message(), "object 's3://bucket/pre fix/k' does not exist");
}

// ---------------------------------------------------------------------------------------------
// Against moto_server
// ---------------------------------------------------------------------------------------------

// One moto_server for the suite, with signature checking switched on after the three IAM calls
// that create the credentials the tests sign with.
class S3MotoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/kalam-moto-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    server_ = new MotoServer();
    MotoServer::Options options;
    options.no_auth_actions = 3;
    Status st = server_->Start(options, dir_ + "/moto.log");
    if (st.ok()) st = CreateCredentials();
    if (st.ok()) {
      auto store = S3Store::Open(Config(""));
      st = store.ok() ? (*store)->CreateBucket() : store.status();
    }
    *setup_error_ = st.ok() ? "" : st.ToString();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override {
    ASSERT_EQ(*setup_error_, "") << "S3 tests need a running moto_server";
  }

  static std::string Endpoint() { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  static StoreConfig Config(const std::string& prefix) {
    StoreConfig c = S3Config(Endpoint(), "s3://" + std::string(kBucket) +
                                             (prefix.empty() ? "" : "/" + prefix));
    c.access_key_id = *access_key_;
    c.secret_access_key = *secret_key_;
    return c;
  }

  // A store under a prefix unique to the running test.
  std::unique_ptr<S3Store> Store(S3Options options = {}) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    auto s = S3Store::Open(Config(std::string("t/") + info->name()), options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  static std::vector<std::string> Keys(S3Store& store, std::string_view prefix = "") {
    auto listed = store.List(prefix);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<std::string> keys;
    if (listed.ok()) {
      for (const auto& info : *listed) keys.push_back(info.key);
    }
    return keys;
  }

  // IAM: CreateUser, PutUserPolicy (allow everything), CreateAccessKey — the three requests moto
  // serves without checking signatures.
  static Status CreateCredentials() {
    auto http = HttpClient::Create({});
    if (!http.ok()) return http.status();
    const std::string host = "127.0.0.1:" + std::to_string(server_->port());
    std::string last_body;
    for (const std::string& form : {
             "Action=CreateUser&UserName=kalam&Version=2010-05-08"s,
             "Action=PutUserPolicy&UserName=kalam&PolicyName=all&Version=2010-05-08&"
             "PolicyDocument=" +
                 UriEncode(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                           R"("Action":"*","Resource":"*"}]})",
                           false),
             "Action=CreateAccessKey&UserName=kalam&Version=2010-05-08"s}) {
      const std::string date = AmzDate(std::time(nullptr));
      SigV4Request sig;
      sig.method = "POST";
      sig.canonical_uri = "/";
      sig.headers = {{"host", host},
                     {"content-type", "application/x-www-form-urlencoded"},
                     {"x-amz-date", date}};
      sig.payload_sha256 = Sha256Hex(form);
      HttpRequest req;
      req.method = "POST";
      req.target = "/";
      req.headers = sig.headers;
      req.headers.emplace_back(
          "authorization",
          SignV4(sig, {"AKIABOOTSTRAP0000000", "bootstrap", ""}, "us-east-1", "iam", date)
              .authorization);
      req.body = form;
      auto resp = (*http)->Send({false, "127.0.0.1", server_->port()}, req);
      if (!resp.ok()) return resp.status();
      if (resp->status != 200) {
        return Status::Internal("IAM bootstrap failed: HTTP " + std::to_string(resp->status) +
                                " " + resp->body);
      }
      last_body = resp->body;
    }
    auto xml = ParseXml(last_body);
    if (!xml.ok()) return xml.status();
    const XmlElement* result = xml->Find("CreateAccessKeyResult");
    const XmlElement* key = result ? result->Find("AccessKey") : nullptr;
    if (key == nullptr || key->Find("AccessKeyId") == nullptr ||
        key->Find("SecretAccessKey") == nullptr) {
      return Status::Internal("unexpected CreateAccessKey response: " + last_body);
    }
    *access_key_ = key->Find("AccessKeyId")->text;
    *secret_key_ = key->Find("SecretAccessKey")->text;
    return Status::OK();
  }

  static inline std::string dir_;
  static inline MotoServer* server_ = nullptr;
  static inline std::unique_ptr<std::string> setup_error_ = std::make_unique<std::string>();
  static inline std::unique_ptr<std::string> access_key_ = std::make_unique<std::string>();
  static inline std::unique_ptr<std::string> secret_key_ = std::make_unique<std::string>();
};

TEST_F(S3MotoTest, PutGetOverwriteRoundTrip) {
  auto store = Store();
  std::string binary = "PAR1\0\x01\xff\xfe"s + std::string(100000, 'x');
  ASSERT_TRUE(store->Put("chat/messages/u1/seg-000001.parquet", binary).ok());
  auto got = store->Get("chat/messages/u1/seg-000001.parquet");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == binary);
  ASSERT_TRUE(store->Put("chat/messages/u1/seg-000001.parquet", "v2").ok());
  EXPECT_EQ(*store->Get("chat/messages/u1/seg-000001.parquet"), "v2");
  ASSERT_TRUE(store->Put("empty", "").ok());
  EXPECT_EQ(*store->Get("empty"), "");
}

TEST_F(S3MotoTest, LargeObjectRoundTrips) {
  auto store = Store();
  std::string big(12 << 20, '\0');  // above Beast's default 8 MB body limit
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  ASSERT_TRUE(store->Put("big", big).ok());
  auto got = store->Get("big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), big.size());
  EXPECT_TRUE(*got == big);
}

TEST_F(S3MotoTest, PutFileMultipartRoundTripsAndReadsRanges) {
  S3Options o;
  o.part_size_bytes = 5 << 20;  // S3's (and moto's) smallest part
  auto store = Store(o);
  const std::string big = PatternBytes((12 << 20) + 123);  // parts of 5, 5 and 2 MiB + 123
  TempFile file(big);
  Status st = store->PutFile("files/big.bin", file.path());
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto got = store->Get("files/big.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == big);
  EXPECT_EQ(*store->Size("files/big.bin"), big.size());
  // A range across the first part boundary, the tail, and past the end.
  EXPECT_TRUE(Got(store->GetRange("files/big.bin", (5 << 20) - 3, 10)) ==
              big.substr((5 << 20) - 3, 10));
  EXPECT_TRUE(Got(store->GetRange("files/big.bin", big.size() - 5, 100)) ==
              big.substr(big.size() - 5));
  EXPECT_EQ(Got(store->GetRange("files/big.bin", big.size(), 10)), "");
  EXPECT_EQ(Got(store->GetRange("files/big.bin", 7, 0)), "");
  EXPECT_EQ(store->GetRange("files/none", 0, 10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetRange("files/none", 0, 0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Size("files/none").status().code(), StatusCode::kNotFound);

  TempFile small("small file");
  ASSERT_TRUE(store->PutFile("files/small.txt", small.path()).ok());
  EXPECT_EQ(*store->Get("files/small.txt"), "small file");
  EXPECT_EQ(Got(store->GetRange("files/small.txt", 6, 100)), "file");
  TempFile empty("");
  ASSERT_TRUE(store->PutFile("files/empty", empty.path()).ok());
  EXPECT_EQ(*store->Size("files/empty"), 0u);
  EXPECT_EQ(Got(store->GetRange("files/empty", 0, 10)), "");
  EXPECT_EQ(Keys(*store), (std::vector<std::string>{"files/big.bin", "files/empty",
                                                    "files/small.txt"}));
}

TEST_F(S3MotoTest, AFailedMultipartUploadLeavesNoObjectAndNoUpload) {
  // Parts below S3's 5 MiB minimum: moto refuses the completion (EntityTooSmall) after every part
  // was stored, so the upload must be aborted.
  S3Options o;
  o.part_size_bytes = 1 << 20;
  auto store = Store(o);
  TempFile file(PatternBytes(3 << 20));
  Status st = store->PutFile("files/big.bin", file.path());
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("failed: HTTP 400 EntityTooSmall"), std::string::npos)
      << st.message();
  EXPECT_EQ(Keys(*store), std::vector<std::string>{});
  EXPECT_EQ(store->Size("files/big.bin").status().code(), StatusCode::kNotFound);
  // ListMultipartUploads under this test's prefix: none left.
  auto http = HttpClient::Create({});
  ASSERT_TRUE(http.ok());
  const std::string host = "127.0.0.1:" + std::to_string(server_->port());
  const std::string date = AmzDate(std::time(nullptr));
  SigV4Request sig;
  sig.method = "GET";
  sig.canonical_uri = "/" + std::string(kBucket);
  sig.query = {{"uploads", ""}, {"prefix", "t/AFailedMultipartUploadLeavesNoObjectAndNoUpload/"}};
  sig.headers = {{"host", host}, {"x-amz-content-sha256", Sha256Hex("")}, {"x-amz-date", date}};
  sig.payload_sha256 = Sha256Hex("");
  HttpRequest req;
  req.method = "GET";
  req.target = sig.canonical_uri + "?" + CanonicalQueryString(sig.query);
  req.headers = sig.headers;
  req.headers.emplace_back(
      "authorization",
      SignV4(sig, {*access_key_, *secret_key_, ""}, "us-east-1", "s3", date).authorization);
  auto resp = (*http)->Send({false, "127.0.0.1", server_->port()}, req);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_EQ(resp->status, 200) << resp->body;
  auto xml = ParseXml(resp->body);
  ASSERT_TRUE(xml.ok()) << resp->body;
  EXPECT_EQ(xml->name, "ListMultipartUploadsResult");
  EXPECT_EQ(xml->Find("Upload"), nullptr) << resp->body;
}

TEST_F(S3MotoTest, MissingObjectIsNotFound) {
  auto store = Store();
  auto got = store->Get("no/such/key");
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(got.status().message(), "object 's3://kalam-test/t/MissingObjectIsNotFound/no/such/key'"
                                    " does not exist");
}

TEST_F(S3MotoTest, KeysWithSpecialCharactersAreSignedAndListedExactly) {
  auto store = Store();
  const std::vector<std::string> keys = {
      "a b/c+d=e&f.parquet", "ключ/データ 🙂", "x$y!z'(1)*,;:@", "~tilde_-.", "%2e%2e/pct%25",
      "amp&lt;/k", "q?hash#"};
  for (const auto& k : keys) {
    ASSERT_TRUE(store->Put(k, "value of " + k).ok()) << k;
  }
  for (const auto& k : keys) {
    auto got = store->Get(k);
    ASSERT_TRUE(got.ok()) << k << ": " << got.status().ToString();
    EXPECT_EQ(*got, "value of " + k);
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Keys(*store), sorted);
  EXPECT_EQ(Keys(*store, "a b/"), std::vector<std::string>{"a b/c+d=e&f.parquet"});
  EXPECT_EQ(Keys(*store, "ключ/"), std::vector<std::string>{"ключ/データ 🙂"});
}

TEST_F(S3MotoTest, ListPaginatesAndFiltersByPrefix) {
  S3Options o;
  o.list_page_size = 7;
  auto store = Store(o);
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "seg/%03d.parquet", i);
    expected.push_back(name);
    ASSERT_TRUE(store->Put(name, std::string(static_cast<size_t>(i), 'z')).ok());
  }
  ASSERT_TRUE(store->Put("other/x", "x").ok());
  ASSERT_TRUE(store->Put("seg2", "x").ok());
  auto listed = store->List("seg/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 25u);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ((*listed)[i].key, expected[i]);
    EXPECT_EQ((*listed)[i].size_bytes, static_cast<uint64_t>(i));
  }
  EXPECT_EQ(Keys(*store, "seg").size(), 26u);  // "seg2" too
  EXPECT_EQ(Keys(*store, "seg/01"),
            (std::vector<std::string>{"seg/010.parquet", "seg/011.parquet", "seg/012.parquet",
                                      "seg/013.parquet", "seg/014.parquet", "seg/015.parquet",
                                      "seg/016.parquet", "seg/017.parquet", "seg/018.parquet",
                                      "seg/019.parquet"}));
  EXPECT_EQ(Keys(*store).size(), 27u);
  EXPECT_EQ(Keys(*store, "nothing/"), std::vector<std::string>{});
}

TEST_F(S3MotoTest, ListOfMoreThanOneDefaultPage) {
  // 1001 objects: the default page size of 1000 must paginate once.
  auto store = Store();
  std::vector<std::string> expected;
  for (int i = 0; i < 1001; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "k%04d", i);
    expected.push_back(name);
    ASSERT_TRUE(store->Put(name, "").ok());
  }
  EXPECT_EQ(Keys(*store), expected);
}

TEST_F(S3MotoTest, StorePrefixesDoNotSeeEachOther) {
  auto a = S3Store::Open(Config("iso/a"));
  auto ab = S3Store::Open(Config("iso/ab"));
  ASSERT_TRUE(a.ok() && ab.ok());
  ASSERT_TRUE((*a)->Put("x", "1").ok());
  ASSERT_TRUE((*ab)->Put("y", "2").ok());
  EXPECT_EQ(Keys(**a), std::vector<std::string>{"x"});
  EXPECT_EQ(Keys(**ab), std::vector<std::string>{"y"});
  EXPECT_EQ((*a)->Get("y").status().code(), StatusCode::kNotFound);
}

TEST_F(S3MotoTest, DeleteRemovesAndIsIdempotent) {
  auto store = Store();
  ASSERT_TRUE(store->Put("d/x", "1").ok());
  ASSERT_TRUE(store->Put("d/y", "2").ok());
  EXPECT_TRUE(store->Delete("d/x").ok());
  EXPECT_EQ(store->Get("d/x").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->Delete("d/x").ok());
  EXPECT_TRUE(store->Delete("never/existed").ok());
  EXPECT_EQ(Keys(*store), std::vector<std::string>{"d/y"});
}

TEST_F(S3MotoTest, CheckPassesAndLeavesNothingBehind) {
  auto store = Store();
  Status st = store->Check();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Keys(*store), std::vector<std::string>{});
}

TEST_F(S3MotoTest, CreateBucketIsIdempotent) {
  auto store = Store();
  EXPECT_TRUE(store->CreateBucket().ok());
}

TEST_F(S3MotoTest, WrongSecretIsRefusedBySignatureCheck) {
  StoreConfig c = Config("t/wrong-secret");
  c.secret_access_key += "x";
  auto store = S3Store::Open(c);
  ASSERT_TRUE(store.ok());
  Status st = (*store)->Put("k", "v");
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("HTTP 403 SignatureDoesNotMatch"), std::string::npos)
      << st.message();
  Status check = (*store)->Check();
  EXPECT_EQ(check.code(), StatusCode::kIoError);
  EXPECT_EQ(check.message().rfind("storage check failed at write (s3://kalam-test/t/wrong-secret/"
                                  ".kalam-check/probe-",
                                  0),
            0u)
      << check.message();
}

TEST_F(S3MotoTest, UnknownAccessKeyIsRefused) {
  StoreConfig c = Config("t/unknown-key");
  c.access_key_id = "AKIANOTAREALKEY00000";
  auto store = S3Store::Open(c);
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("k");
  EXPECT_EQ(got.status().code(), StatusCode::kIoError);
  EXPECT_NE(got.status().message().find("HTTP 403 InvalidAccessKeyId"), std::string::npos)
      << got.status().message();
}

TEST_F(S3MotoTest, MissingBucketIsAnIoErrorNotAnEmptyStore) {
  StoreConfig c = Config("");
  c.base_directory = "s3://no-such-bucket-here";
  auto store = S3Store::Open(c);
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("manifest.json");
  EXPECT_EQ(got.status().code(), StatusCode::kIoError);
  EXPECT_NE(got.status().message().find("NoSuchBucket"), std::string::npos)
      << got.status().message();
  EXPECT_EQ((*store)->List("").status().code(), StatusCode::kIoError);
  Status check = (*store)->Check();
  EXPECT_EQ(check.code(), StatusCode::kIoError);
  EXPECT_NE(check.message().find("storage check failed at write"), std::string::npos);
  EXPECT_NE(check.message().find("NoSuchBucket"), std::string::npos) << check.message();
}

// ---------------------------------------------------------------------------------------------
// TLS against moto_server with a private certificate
// ---------------------------------------------------------------------------------------------

class S3TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/kalam-moto-tls-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    Status st = testing::WriteSelfSignedCertificate("IP:127.0.0.1", dir_ + "/cert.pem",
                                                    dir_ + "/key.pem");
    if (st.ok()) {
      st = testing::WriteSelfSignedCertificate("DNS:other.example", dir_ + "/other.pem",
                                               dir_ + "/other-key.pem");
    }
    server_ = new MotoServer();
    if (st.ok()) {
      MotoServer::Options options;
      options.cert_file = dir_ + "/cert.pem";
      options.key_file = dir_ + "/key.pem";
      st = server_->Start(options, dir_ + "/moto.log");
    }
    *setup_error_ = st.ok() ? "" : st.ToString();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override { ASSERT_EQ(*setup_error_, "") << "TLS tests need moto_server"; }

  static Result<std::unique_ptr<S3Store>> Open(const std::string& host, const std::string& ca) {
    S3Options o;
    o.ca_file = ca;
    o.max_retries = 0;
    return S3Store::Open(
        S3Config("https://" + host + ":" + std::to_string(server_->port()), "s3://tls-bucket"), o);
  }

  static inline std::string dir_;
  static inline MotoServer* server_ = nullptr;
  static inline std::unique_ptr<std::string> setup_error_ = std::make_unique<std::string>();
};

TEST_F(S3TlsTest, TrustedCertificateForTheAddressWorks) {
  auto store = Open("127.0.0.1", dir_ + "/cert.pem");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->CreateBucket().ok());
  ASSERT_TRUE((*store)->Put("k", "over tls").ok());
  auto got = (*store)->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "over tls");
  EXPECT_TRUE((*store)->Check().ok());
}

TEST_F(S3TlsTest, UntrustedCertificateIsRefused) {
  auto store = Open("127.0.0.1", "");  // system CAs do not know our self-signed certificate
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("k");
  EXPECT_EQ(got.status().code(), StatusCode::kIoError);
  EXPECT_NE(got.status().message().find("TLS handshake"), std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find("self-signed certificate"), std::string::npos)
      << got.status().message();

  auto wrong_ca = Open("127.0.0.1", dir_ + "/other.pem");
  ASSERT_TRUE(wrong_ca.ok());
  EXPECT_EQ((*wrong_ca)->Get("k").status().code(), StatusCode::kIoError);
}

TEST_F(S3TlsTest, CertificateForAnotherNameIsRefused) {
  // The certificate covers IP 127.0.0.1 only; "localhost" resolves there but is not named in it.
  auto store = Open("localhost", dir_ + "/cert.pem");
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("k");
  EXPECT_EQ(got.status().code(), StatusCode::kIoError);
  EXPECT_NE(got.status().message().find("(certificate verification: hostname mismatch)"),
            std::string::npos)
      << got.status().message();
}

}  // namespace
}  // namespace kalam::filestore
