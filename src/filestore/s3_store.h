// S3Store: an ObjectStore in an S3 bucket (storage type "s3"), AWS or any S3-compatible server,
// over HTTP/1.1 with Signature Version 4.
#pragma once

#include <chrono>
#include <memory>
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
