// Tests for SigV4: the four examples AWS publishes in "Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk" (S3 API reference), reproduced
// exactly — canonical request, string to sign, signing key and signature — plus the encoding
// rules they rest on.
#include "filestore/s3_signer.h"

#include <gtest/gtest.h>

namespace kalam::filestore {
namespace {

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kDate[] = "20130524T000000Z";
constexpr char kHost[] = "examplebucket.s3.amazonaws.com";

SigningCredentials ExampleCredentials() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
}

SigV4Result Sign(const SigV4Request& r) {
  return SignV4(r, ExampleCredentials(), "us-east-1", "s3", kDate);
}

TEST(SigV4Test, ExampleSigningKey) {
  EXPECT_EQ(HexEncode(DeriveSigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524",
                                       "us-east-1", "s3")),
            "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
}

TEST(SigV4Test, AwsExampleGetObjectWithRange) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "/" + UriEncode("test.txt", true);
  r.headers = {{"Host", kHost},
               {"Range", "bytes=0-9"},
               {"x-amz-content-sha256", kEmptySha256},
               {"x-amz-date", kDate}};
  r.payload_sha256 = kEmptySha256;
  SigV4Result s = Sign(r);
  EXPECT_EQ(s.canonical_request,
            "GET\n"
            "/test.txt\n"
            "\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, AwsExamplePutObject) {
  const std::string payload = "Welcome to Amazon S3.";
  const std::string payload_hash = Sha256Hex(payload);
  EXPECT_EQ(payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request r;
  r.method = "PUT";
  r.canonical_uri = "/" + UriEncode("test$file.text", true);
  // Deliberately unsorted and mixed-case: the signer sorts and lower-cases.
  r.headers = {{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
               {"Host", kHost},
               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
               {"X-Amz-Date", kDate},
               {"x-amz-content-sha256", payload_hash}};
  r.payload_sha256 = payload_hash;
  SigV4Result s = Sign(r);
  EXPECT_EQ(s.canonical_request,
            "PUT\n"
            "/test%24file.text\n"
            "\n"
            "date:Fri, 24 May 2013 00:00:00 GMT\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\n"
            "x-amz-storage-class:REDUCED_REDUNDANCY\n"
            "\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, AwsExampleGetBucketLifecycle) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "/";
  r.query = {{"lifecycle", ""}};
  r.headers = {{"Host", kHost}, {"x-amz-date", kDate}, {"x-amz-content-sha256", kEmptySha256}};
  r.payload_sha256 = kEmptySha256;
  SigV4Result s = Sign(r);
  EXPECT_EQ(s.canonical_request,
            "GET\n"
            "/\n"
            "lifecycle=\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(s.canonical_request),
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, AwsExampleListObjects) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "";  // means "/"
  r.query = {{"prefix", "J"}, {"max-keys", "2"}};  // unsorted on purpose
  r.headers = {{"Host", kHost}, {"x-amz-date", kDate}, {"x-amz-content-sha256", kEmptySha256}};
  r.payload_sha256 = kEmptySha256;
  SigV4Result s = Sign(r);
  EXPECT_EQ(s.canonical_request,
            "GET\n"
            "/\n"
            "max-keys=2&prefix=J\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n"
            "\n"
            "host;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  EXPECT_EQ(s.credential_scope, "20130524/us-east-1/s3/aws4_request");
  EXPECT_EQ(s.signed_headers, "host;x-amz-content-sha256;x-amz-date");
}

TEST(SigV4Test, AnyChangeToTheRequestChangesTheSignature) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "/test.txt";
  r.headers = {{"host", kHost}, {"x-amz-date", kDate}, {"x-amz-content-sha256", kEmptySha256}};
  r.payload_sha256 = kEmptySha256;
  const std::string base = Sign(r).signature;
  SigV4Request other = r;
  other.canonical_uri = "/test.txu";
  EXPECT_NE(Sign(other).signature, base);
  other = r;
  other.query = {{"x", "1"}};
  EXPECT_NE(Sign(other).signature, base);
  other = r;
  other.headers.emplace_back("x-amz-security-token", "token");
  SigV4Result with_token = Sign(other);
  EXPECT_NE(with_token.signature, base);
  EXPECT_EQ(with_token.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  EXPECT_NE(SignV4(r, ExampleCredentials(), "eu-west-1", "s3", kDate).signature, base);
  EXPECT_EQ(SignV4(r, ExampleCredentials(), "eu-west-1", "s3", kDate).credential_scope,
            "20130524/eu-west-1/s3/aws4_request");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndRepeatedHeadersJoined) {
  SigV4Request r;
  r.method = "GET";
  r.canonical_uri = "/";
  r.headers = {{"host", kHost},
               {"X-Amz-Meta-A", "  two   words  here "},
               {"x-amz-meta-a", "second"},
               {"x-amz-date", kDate}};
  r.payload_sha256 = kEmptySha256;
  SigV4Result s = Sign(r);
  EXPECT_NE(s.canonical_request.find("\nx-amz-meta-a:two words here,second\n"), std::string::npos)
      << s.canonical_request;
  EXPECT_EQ(s.signed_headers, "host;x-amz-date;x-amz-meta-a");
}

TEST(UriEncodeTest, FollowsTheS3Rules) {
  EXPECT_EQ(UriEncode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b+c", false), "a%20b%2Bc");
  EXPECT_EQ(UriEncode("a/b", true), "a/b");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("100%", true), "100%25");
  EXPECT_EQ(UriEncode("$&'()*,;=:@!", true), "%24%26%27%28%29%2A%2C%3B%3D%3A%40%21");
  EXPECT_EQ(UriEncode("ключ", true), "%D0%BA%D0%BB%D1%8E%D1%87");
  EXPECT_EQ(UriEncode("%2e%2e", true), "%252e%252e");
}

TEST(CanonicalQueryStringTest, EncodesSortsAndKeepsEmptyValues) {
  EXPECT_EQ(CanonicalQueryString({}), "");
  EXPECT_EQ(CanonicalQueryString({{"prefix", "a b/c"}, {"list-type", "2"}, {"acl", ""}}),
            "acl=&list-type=2&prefix=a%20b%2Fc");
  // Sorted by the encoded name, byte order: upper case before lower case.
  EXPECT_EQ(CanonicalQueryString({{"b", "1"}, {"B", "2"}, {"a", "3"}}), "B=2&a=3&b=1");
  EXPECT_EQ(CanonicalQueryString({{"continuation-token", "1x+/=="}}),
            "continuation-token=1x%2B%2F%3D%3D");
}

TEST(DigestTest, Sha256AndHmacKnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), kEmptySha256);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AmzDateTest, FormatsUtc) {
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
  EXPECT_EQ(AmzDate(0), "19700101T000000Z");
  EXPECT_EQ(AmzDate(951782399), "20000228T235959Z");
  EXPECT_EQ(AmzDate(951782400), "20000229T000000Z");
}

}  // namespace
}  // namespace kalam::filestore
