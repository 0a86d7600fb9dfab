// AWS Signature Version 4 (header-based, "AWS4-HMAC-SHA256") for S3 requests, as pure functions
// so that the published AWS examples can be reproduced exactly in tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "filestore/sha256.h"

namespace kalam::filestore {

// Credentials a request is signed with.
struct SigningCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Temporary credentials' token; when set, SignV4 expects an "x-amz-security-token" header among
  // the request headers (the caller adds it so that it is both sent and signed).
  std::string session_token;
};

// What SigV4 needs to know about one request.
struct SigV4Request {
  std::string method;  // "GET", "PUT", ...
  // The path exactly as sent on the wire, already URI-encoded the S3 way (UriEncode(path, true)):
  // "/test%24file.text", "/bucket/a/b". Empty means "/". S3 paths are not normalised or encoded
  // a second time.
  std::string canonical_uri;
  // Query parameters, not encoded ("prefix" → "a b/c"); order does not matter. A parameter
  // without a value ("?lifecycle") has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  // Every header to sign, as sent: must include "host" and "x-amz-date" (and, for S3,
  // "x-amz-content-sha256"). Names are matched case-insensitively; values are trimmed and inner
  // runs of spaces collapsed for signing.
  std::vector<std::pair<std::string, std::string>> headers;
  // Lower-case hex SHA-256 of the payload (or "UNSIGNED-PAYLOAD").
  std::string payload_sha256;
};

// Every intermediate product of a signature, for tests and for debugging a SignatureDoesNotMatch.
struct SigV4Result {
  std::string canonical_request;
  std::string string_to_sign;
  std::string credential_scope;  // "20130524/us-east-1/s3/aws4_request"
  std::string signed_headers;    // "host;range;x-amz-content-sha256;x-amz-date"
  std::string signature;         // lower-case hex
  // The Authorization header value:
  // "AWS4-HMAC-SHA256 Credential=AKID/scope,SignedHeaders=...,Signature=..."
  std::string authorization;
};

// Signs `request` for `region` and `service` ("s3") at `amz_date` ("20130524T000000Z", which must
// equal the request's x-amz-date header). Pure and thread-safe.
SigV4Result SignV4(const SigV4Request& request, const SigningCredentials& credentials,
                   std::string_view region, std::string_view service, std::string_view amz_date);

// The SigV4 signing key: HMAC chain of "AWS4"+secret over date ("20130524"), region, service and
// "aws4_request". Raw 32 bytes.
std::string DeriveSigningKey(std::string_view secret_access_key, std::string_view date,
                             std::string_view region, std::string_view service);

// S3 URI encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) as is, every other byte as %XX
// (upper-case hex); '/' kept when `keep_slash` (paths), encoded otherwise (query names/values).
std::string UriEncode(std::string_view s, bool keep_slash);

// The canonical query string: parameters URI-encoded, sorted by name then value, joined as
// "a=1&b=&c=x%2Fy". Also what the request line must carry so that it matches the signature.
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);

// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// Lower-case hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);

// The SigV4 timestamp "YYYYMMDDTHHMMSSZ" (UTC) for `unix_seconds`.
std::string AmzDate(int64_t unix_seconds);

}  // namespace kalam::filestore
