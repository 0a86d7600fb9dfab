// S3Store: an ObjectStore in an S3 bucket (storage type "s3"), AWS or any S3-compatible server,
// over HTTP/1.1 with Signature Version 4.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "filestore/http_client.h"
#include "filestore/object_store.h"
#include "filestore/s3_signer.h"

namespace kalam::filestore {

// Knobs beyond StoreConfig, for tests and tuning.
struct S3Options {
  // max-keys of each ListObjectsV2 page (S3 caps it at 1000). Small values force pagination in
  // tests. Must be 1..1000. Default: 1000.
  int list_page_size = 1000;
  // Retries of a request after a connection error, a timeout or a 5xx answer (every request the
  // store makes is idempotent). Default: 3 (so at most 4 attempts).
  int max_retries = 3;
  // Wait before the first retry; doubled for each further one. Default: 100 ms.
  std::chrono::milliseconds retry_backoff{100};
  // PEM file of CA certificates to trust instead of the system store. Default: empty.
  std::string ca_file;
  // Time source for x-amz-date. Not owned; nullptr = Clock::System(). Default: nullptr.
  const Clock* clock = nullptr;
  // PutFile: files up to this size go up in one PUT; larger ones as a multipart upload of parts
  // of this size (read from the file one at a time, so memory holds one part). S3 requires parts
  // of at least 5 MiB (except the last); smaller values are for tests against a scripted server.
  // Must be 1 byte .. 5 GiB. Default: 8 MiB.
  uint64_t part_size_bytes = 8ull << 20;
};

// Addressing: with StoreConfig::endpoint empty, https://<bucket>.s3.<region>.amazonaws.com
// (virtual-host style; path style on s3.<region>.amazonaws.com when the bucket name has a '.',
// which a virtual-host TLS certificate cannot cover). With a custom endpoint
// ("http://127.0.0.1:9000", "https://minio.internal"), path style: <endpoint>/<bucket>/<key>.
// Object keys are "<prefix>/<key>" when the base has a prefix.
//
// Errors: kIoError "S3 <METHOD> <url> failed: HTTP <status> <Code>: <Message>" (or the transport
// cause); GET of a missing object is kNotFound. Requests are retried per S3Options.
//
// Thread-safe: all state is immutable after Open; each request has its own connection.
class S3Store final : public ObjectStore {
 public:
  // Parses `config`: base_directory "s3://bucket/optional/prefix", or `bucket` (with
  // base_directory empty, or a plain "optional/prefix"). kInvalidArgument for a missing or
  // malformed bucket, a bucket that disagrees with base_directory, a bad prefix or endpoint,
  // missing access key or secret, or bad options. Does no I/O.
  static Result<std::unique_ptr<S3Store>> Open(const StoreConfig& config, S3Options options = {});

  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  // Streams the file: one PUT up to S3Options::part_size_bytes, else a multipart upload
  // (CreateMultipartUpload, UploadPart per part, CompleteMultipartUpload), so the object appears
  // whole or not at all; on any failure the upload is aborted (AbortMultipartUpload).
  Status PutFile(std::string_view key, const std::string& local_path) override;
  // A GET with a Range header; the response body is bounded by `length`.
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  // A HEAD: the Content-Length. kNotFound on 404 (a HEAD answer has no body, so a missing bucket
  // also reads as kNotFound here).
  Result<uint64_t> Size(std::string_view key) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Check() override;
  std::string Describe(std::string_view key) const override;

  // Creates the bucket (CreateBucket, with a LocationConstraint outside us-east-1). OK when it
  // already exists and belongs to these credentials. For provisioning and tests.
  Status CreateBucket();

  // The URL requests for `key` go to ("https://bucket.s3.us-east-1.amazonaws.com/p/k",
  // "http://127.0.0.1:9000/bucket/p/k"), for messages and tests. `key` is not validated.
  std::string ObjectUrl(std::string_view key) const;

  const std::string& bucket() const { return bucket_; }
  const std::string& prefix() const { return prefix_; }  // no leading or trailing '/'

 private:
  S3Store() = default;

  struct Call {
    std::string method;
    std::string object_key;  // bucket-relative key ("" = the bucket itself)
    std::vector<std::pair<std::string, std::string>> query;
    std::string body;
    // Extra headers, sent and signed (lower-case names, e.g. "range").
    std::vector<std::pair<std::string, std::string>> headers = {};
    // HttpRequest::max_response_body.
    std::optional<uint64_t> max_response_body = std::nullopt;
  };
  // The URL path (encoded) of a bucket-relative key under this store's addressing.
  std::string PathFor(std::string_view object_key) const;
  std::string UrlFor(const Call& call) const;
  // Signs and sends `call`, retrying transport failures and 5xx. Returns the final response,
  // whatever its status; kIoError only when no response came back.
  Result<HttpResponse> Execute(const Call& call);
  // kIoError describing a response that is not the expected success.
  Status ResponseError(const Call& call, const HttpResponse& response) const;
  std::string FullKey(std::string_view key) const;
  // The multipart upload of PutFile for a file of `size` bytes open as `fd`.
  Status PutMultipart(const std::string& full_key, int fd, uint64_t size,
                      const std::string& local_path);

  std::string bucket_;
  std::string prefix_;
  std::string region_;
  SigningCredentials credentials_;
  HttpEndpoint endpoint_;
  std::string host_header_;
  bool path_style_ = true;
  S3Options options_;
  std::unique_ptr<HttpClient> http_;
};

}  // namespace kalam::filestore
