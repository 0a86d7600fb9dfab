// S3Store: configuration parsing, request signing and retry, and the five object operations.
#include "filestore/s3_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <thread>

#include "filestore/path_template.h"
#include "filestore/s3_xml.h"
#include "filestore/store_check.h"

namespace kalam::filestore {
namespace {

constexpr int kMaxListPageSize = 1000;
constexpr int kMaxRetriesLimit = 10;
constexpr size_t kMaxBodyInMessage = 200;

Status CheckBucketName(std::string_view b) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("S3 bucket name '" + std::string(b) + "' " + std::string(why));
  };
  if (b.size() < 3 || b.size() > 63) return bad("must be 3 to 63 characters long");
  for (char c : b) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return bad("may hold only lower-case letters, digits, '.' and '-'");
  }
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back())) {
    return bad("must start and end with a letter or digit");
  }
  if (b.find("..") != std::string_view::npos) return bad("must not contain '..'");
  return Status::OK();
}

Status CheckRegion(std::string_view r) {
  if (r.empty() || r.size() > 64) {
    return Status::InvalidArgument("S3 region '" + std::string(r) + "' is empty or too long");
  }
  for (char c : r) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return Status::InvalidArgument("S3 region '" + std::string(r) +
                                     "' may hold only lower-case letters, digits and '-'");
    }
  }
  return Status::OK();
}

std::string_view TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

// Parses "http://host[:port][/]" or "https://...". Sets endpoint and the Host header value.
Status ParseEndpoint(std::string_view url, HttpEndpoint* ep, std::string* host_header) {
  const auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("S3 endpoint '" + std::string(url) + "' " + std::string(why) +
                                   "; expected e.g. http://127.0.0.1:9000 or "
                                   "https://s3.example.com");
  };
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    ep->tls = false;
    rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    ep->tls = true;
    rest = url.substr(8);
  } else {
    return bad("must start with http:// or https://");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return bad("must be scheme://host[:port] with no path, query or user info");
  }
  std::string_view host;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed '['");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("has text after the IPv6 address");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("has an empty port");
    }
  } else {
    size_t colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return bad("has an empty port");
    }
  }
  if (host.empty()) return bad("has no host");
  uint16_t default_port = ep->tls ? 443 : 80;
  uint16_t port = default_port;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return bad("has an invalid port");
    }
    port = static_cast<uint16_t>(value);
  }
  ep->host = std::string(host);
  ep->port = port;
  bool ipv6 = host.find(':') != std::string_view::npos;
  *host_header = ipv6 ? "[" + ep->host + "]" : ep->host;
  if (port != default_port) *host_header += ":" + std::to_string(port);
  return Status::OK();
}

bool IsRetryable(int http_status) { return http_status >= 500 && http_status <= 599; }

constexpr uint64_t kMaxPartSize = 5ull << 30;  // S3's largest part

// A 404 that means "no such key" (not "no such bucket", which is a broken storage and must not
// read as an empty one).
bool IsMissingKey(const HttpResponse& response) {
  if (response.status != 404) return false;
  S3ErrorInfo info = ParseS3Error(response.body);
  return info.code.empty() || info.code == "NoSuchKey";
}

// Closes a descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

// Reads exactly `n` bytes at `offset` of `fd` (the file `path`) into `*out`.
Status ReadExactly(int fd, uint64_t offset, uint64_t n, const std::string& path,
                   std::string* out) {
  out->resize(static_cast<size_t>(n));
  uint64_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, out->data() + done, static_cast<size_t>(n - done),
                        static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::IoError("cannot read '" + path + "': " + std::strerror(errno));
    if (r == 0) {
      return Status::IoError("'" + path + "' ended at byte " + std::to_string(offset + done) +
                             " while being stored (it was truncated)");
    }
    done += static_cast<uint64_t>(r);
  }
  return Status::OK();
}

std::string XmlEscapeText(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<S3Store>> S3Store::Open(const StoreConfig& config, S3Options options) {
  std::unique_ptr<S3Store> store(new S3Store());
  std::string_view base = config.base_directory;
  std::string bucket = config.bucket;
  std::string_view prefix;
  if (base.substr(0, 5) == "s3://") {
    std::string_view rest = base.substr(5);
    size_t slash = rest.find('/');
    std::string from_base(rest.substr(0, slash));
    prefix = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (!bucket.empty() && bucket != from_base) {
      return Status::InvalidArgument("S3 storage names bucket '" + bucket +
                                     "' but its base directory '" + std::string(base) +
                                     "' names bucket '" + from_base + "'");
    }
    bucket = from_base;
  } else {
    prefix = base;
  }
  if (bucket.empty()) {
    return Status::InvalidArgument(
        "S3 storage needs a bucket: set base_directory to s3://bucket[/prefix] or give the bucket");
  }
  KALAM_RETURN_IF_ERROR(CheckBucketName(bucket));
  prefix = TrimSlashes(prefix);
  if (!prefix.empty()) {
    if (Status st = ValidateKey(prefix); !st.ok()) {
      return st.WithPrefix("S3 storage prefix '" + std::string(prefix) + "': ");
    }
  }
  KALAM_RETURN_IF_ERROR(CheckRegion(config.region));
  if (config.access_key_id.empty() || config.secret_access_key.empty()) {
    return Status::InvalidArgument(
        "S3 storage needs credentials: set both the access key id and the secret access key");
  }
  if (config.timeout_ms <= 0) {
    return Status::InvalidArgument("S3 request timeout must be positive (got " +
                                   std::to_string(config.timeout_ms) + " ms)");
  }
  if (options.list_page_size < 1 || options.list_page_size > kMaxListPageSize) {
    return Status::InvalidArgument("S3 list page size must be 1..1000");
  }
  if (options.max_retries < 0 || options.max_retries > kMaxRetriesLimit) {
    return Status::InvalidArgument("S3 max_retries must be 0..10");
  }
  if (options.part_size_bytes < 1 || options.part_size_bytes > kMaxPartSize) {
    return Status::InvalidArgument("S3 part size must be 1 byte .. 5 GiB");
  }

  store->bucket_ = std::move(bucket);
  store->prefix_ = std::string(prefix);
  store->region_ = config.region;
  store->credentials_ = {config.access_key_id, config.secret_access_key, config.session_token};
  if (config.endpoint.empty()) {
    store->endpoint_.tls = true;
    store->endpoint_.port = 443;
    // A bucket with '.' cannot be a virtual host under the *.s3.<region>.amazonaws.com
    // certificate, so it is addressed path style.
    store->path_style_ = store->bucket_.find('.') != std::string::npos;
    std::string service_host = "s3." + config.region + ".amazonaws.com";
    store->endpoint_.host =
        store->path_style_ ? service_host : store->bucket_ + "." + service_host;
    store->host_header_ = store->endpoint_.host;
  } else {
    KALAM_RETURN_IF_ERROR(
        ParseEndpoint(config.endpoint, &store->endpoint_, &store->host_header_));
    store->path_style_ = true;
  }
  store->options_ = std::move(options);
  HttpClientOptions http_options;
  http_options.timeout = std::chrono::milliseconds(config.timeout_ms);
  http_options.ca_file = store->options_.ca_file;
  KALAM_ASSIGN_OR_RETURN(store->http_, HttpClient::Create(http_options));
  return store;
}

std::string S3Store::FullKey(std::string_view key) const {
  if (prefix_.empty()) return std::string(key);
  return prefix_ + "/" + std::string(key);
}

std::string S3Store::PathFor(std::string_view object_key) const {
  std::string path;
  if (path_style_) {
    path = "/" + UriEncode(bucket_, false);
    if (!object_key.empty()) path += "/" + UriEncode(object_key, true);
  } else {
    path = "/" + UriEncode(object_key, true);
  }
  return path;
}

std::string S3Store::UrlFor(const Call& call) const {
  std::string url =
      (endpoint_.tls ? "https://" : "http://") + host_header_ + PathFor(call.object_key);
  if (!call.query.empty()) url += "?" + CanonicalQueryString(call.query);
  return url;
}

Result<HttpResponse> S3Store::Execute(const Call& call) {
  const Clock& clock = options_.clock != nullptr ? *options_.clock : Clock::System();
  const std::string payload_hash = Sha256Hex(call.body);
  const std::string path = PathFor(call.object_key);
  std::string target = path;
  if (!call.query.empty()) target += "?" + CanonicalQueryString(call.query);

  Status last_error;
  std::optional<HttpResponse> last_response;
  for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
    if (attempt > 0 && options_.retry_backoff.count() > 0) {
      std::this_thread::sleep_for(options_.retry_backoff * (1 << (attempt - 1)));
    }
    // Signed afresh on every attempt: the signature covers x-amz-date, which S3 checks for skew.
    const std::string amz_date = AmzDate(clock.NowSeconds());
    SigV4Request sig;
    sig.method = call.method;
    sig.canonical_uri = path;
    sig.query = call.query;
    sig.headers = {{"host", host_header_},
                   {"x-amz-content-sha256", payload_hash},
                   {"x-amz-date", amz_date}};
    sig.headers.insert(sig.headers.end(), call.headers.begin(), call.headers.end());
    if (!credentials_.session_token.empty()) {
      sig.headers.emplace_back("x-amz-security-token", credentials_.session_token);
    }
    sig.payload_sha256 = payload_hash;
    SigV4Result signed_request = SignV4(sig, credentials_, region_, "s3", amz_date);

    HttpRequest req;
    req.method = call.method;
    req.target = target;
    req.headers = sig.headers;
    req.headers.emplace_back("authorization", signed_request.authorization);
    req.headers.emplace_back("user-agent", "kalamdb-filestore");
    req.body = call.body;
    req.max_response_body = call.max_response_body;
    Result<HttpResponse> response = http_->Send(endpoint_, req);
    if (!response.ok()) {
      last_error = response.status();
      last_response.reset();
      continue;
    }
    if (IsRetryable(response->status)) {
      last_response = std::move(response).value();
      continue;
    }
    return response;
  }
  if (last_response) return std::move(*last_response);
  const int attempts = options_.max_retries + 1;
  return Status::IoError("S3 " + call.method + " " + UrlFor(call) + " failed after " +
                         std::to_string(attempts) + (attempts == 1 ? " attempt: " : " attempts: ") +
                         last_error.message());
}

Status S3Store::ResponseError(const Call& call, const HttpResponse& response) const {
  std::string msg = "S3 " + call.method + " " + UrlFor(call) + " failed: HTTP " +
                    std::to_string(response.status);
  S3ErrorInfo info = ParseS3Error(response.body);
  if (!info.code.empty()) {
    msg += " " + info.code;
    if (!info.message.empty()) msg += ": " + info.message;
  } else if (!response.body.empty()) {
    msg += ": " + response.body.substr(0, kMaxBodyInMessage);
  }
  if (IsRetryable(response.status) && options_.max_retries > 0) {
    msg += " (after " + std::to_string(options_.max_retries + 1) + " attempts)";
  }
  return Status::IoError(std::move(msg));
}

Status S3Store::Put(std::string_view key, std::string_view data) {
  KALAM_RETURN_IF_ERROR(ValidateKey(key));
  Call call{"PUT", FullKey(key), {}, std::string(data)};
  KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status == 200) return Status::OK();
  return ResponseError(call, response);
}

Result<std::string> S3Store::Get(std::string_view key) {
  KALAM_RETURN_IF_ERROR(ValidateKey(key));
  Call call{"GET", FullKey(key), {}, {}};
  KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status == 200) return std::move(response.body);
  // Only a missing key is "not found" (a table whose manifest "does not exist" would look empty).
  if (IsMissingKey(response)) {
    return Status::NotFound("object '" + Describe(key) + "' does not exist");
  }
  return ResponseError(call, response);
}

Status S3Store::PutFile(std::string_view key, const std::string& local_path) {
  KALAM_RETURN_IF_ERROR(ValidateKey(key));
  int fd = ::open(local_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::IoError("cannot open '" + local_path + "' for reading: " +
                           std::strerror(errno));
  }
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Status::IoError("cannot stat '" + local_path + "': " + std::strerror(errno));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > options_.part_size_bytes) return PutMultipart(FullKey(key), fd, size, local_path);
  Call call{"PUT", FullKey(key), {}, {}};
  KALAM_RETURN_IF_ERROR(ReadExactly(fd, 0, size, local_path, &call.body));
  KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status == 200) return Status::OK();
  return ResponseError(call, response);
}

Status S3Store::PutMultipart(const std::string& full_key, int fd, uint64_t size,
                             const std::string& local_path) {
  Call create{"POST", full_key, {{"uploads", ""}}, {}};
  KALAM_ASSIGN_OR_RETURN(HttpResponse created, Execute(create));
  if (created.status != 200) return ResponseError(create, created);
  Result<XmlElement> doc = ParseXml(created.body);
  const XmlElement* id_element = doc.ok() ? doc->Find("UploadId") : nullptr;
  if (id_element == nullptr || id_element->text.empty()) {
    return Status::IoError("S3 POST " + UrlFor(create) + " returned no UploadId: " +
                           created.body.substr(0, kMaxBodyInMessage));
  }
  const std::string upload_id = id_element->text;

  Status st = [&]() -> Status {
    std::string parts_xml;
    std::string piece;  // one part at a time: memory holds a single part
    int number = 0;
    for (uint64_t offset = 0; offset < size; offset += options_.part_size_bytes) {
      ++number;
      const uint64_t n = std::min(options_.part_size_bytes, size - offset);
      KALAM_RETURN_IF_ERROR(ReadExactly(fd, offset, n, local_path, &piece));
      Call part{"PUT",
                full_key,
                {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                std::move(piece)};
      KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(part));
      if (response.status != 200) return ResponseError(part, response);
      std::optional<std::string> etag = response.Header("ETag");
      if (!etag || etag->empty()) {
        return Status::IoError("S3 PUT " + UrlFor(part) + " returned no ETag for part " +
                               std::to_string(number));
      }
      parts_xml += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" +
                   XmlEscapeText(*etag) + "</ETag></Part>";
      piece = std::move(part.body);  // the buffer is reused for the next part
    }
    Call complete{"POST", full_key, {{"uploadId", upload_id}},
                  "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
                      parts_xml + "</CompleteMultipartUpload>"};
    KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(complete));
    // S3 may answer 200 and report the failure in the body.
    if (response.status != 200 || !ParseS3Error(response.body).code.empty()) {
      return ResponseError(complete, response);
    }
    return Status::OK();
  }();
  if (st.ok()) return st;
  // Nothing was created: drop the parts stored so far.
  Call abort{"DELETE", full_key, {{"uploadId", upload_id}}, {}};
  Result<HttpResponse> aborted = Execute(abort);
  if (!aborted.ok()) {
    return Status(st.code(), st.message() + "; aborting the multipart upload failed too: " +
                                 aborted.status().message());
  }
  if (aborted->status != 204 && aborted->status != 200 && !IsMissingKey(*aborted) &&
      ParseS3Error(aborted->body).code != "NoSuchUpload") {
    return Status(st.code(), st.message() + "; aborting the multipart upload failed too: " +
                                 ResponseError(abort, *aborted).message());
  }
  return st;
}

Result<std::string> S3Store::GetRange(std::string_view key, uint64_t offset, uint64_t length) {
  KALAM_RETURN_IF_ERROR(ValidateKey(key));
  if (length == 0) {
    KALAM_RETURN_IF_ERROR(Size(key).status());  // kNotFound when there is no such object
    return std::string();
  }
  const uint64_t last = length - 1 > std::numeric_limits<uint64_t>::max() - offset
                            ? std::numeric_limits<uint64_t>::max()
                            : offset + length - 1;
  Call call{"GET", FullKey(key), {}, {}};
  call.headers = {{"range", "bytes=" + std::to_string(offset) + "-" + std::to_string(last)}};
  call.max_response_body = length;
  KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status == 206) return std::move(response.body);
  if (response.status == 200) {
    // The whole object (a server that ignores ranges, or an empty object): the slice of it.
    if (offset >= response.body.size()) return std::string();
    return response.body.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
  }
  if (response.status == 416) return std::string();  // the range starts at or past the end
  if (IsMissingKey(response)) {
    return Status::NotFound("object '" + Describe(key) + "' does not exist");
  }
  return ResponseError(call, response);
}

Result<uint64_t> S3Store::Size(std::string_view key) {
  KALAM_RETURN_IF_ERROR(ValidateKey(key));
  Call call{"HEAD", FullKey(key), {}, {}};
  KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status == 404) {
    return Status::NotFound("object '" + Describe(key) + "' does not exist");
  }
  if (response.status != 200) return ResponseError(call, response);
  std::optional<std::string> length = response.Header("Content-Length");
  uint64_t size = 0;
  if (!length || std::from_chars(length->data(), length->data() + length->size(), size).ptr !=
                     length->data() + length->size()) {
    return Status::IoError("S3 HEAD " + UrlFor(call) + " returned no valid Content-Length");
  }
  return size;
}

Status S3Store::Delete(std::string_view key) {
  KALAM_RETURN_IF_ERROR(ValidateKey(key));
  Call call{"DELETE", FullKey(key), {}, {}};
  KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status == 204 || response.status == 200) return Status::OK();
  if (response.status == 404 && ParseS3Error(response.body).code == "NoSuchKey") {
    return Status::OK();
  }
  return ResponseError(call, response);
}

Result<std::vector<ObjectInfo>> S3Store::List(std::string_view prefix) {
  KALAM_RETURN_IF_ERROR(ValidatePrefix(prefix));
  const std::string strip = prefix_.empty() ? std::string() : prefix_ + "/";
  const std::string full_prefix = strip + std::string(prefix);
  std::vector<ObjectInfo> out;
  std::string token;
  while (true) {
    Call call{"GET", "", {}, {}};
    call.query = {{"list-type", "2"}, {"max-keys", std::to_string(options_.list_page_size)}};
    if (!full_prefix.empty()) call.query.emplace_back("prefix", full_prefix);
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
    if (response.status != 200) return ResponseError(call, response);
    Result<ListObjectsPage> page = ParseListObjectsV2(response.body);
    if (!page.ok()) {
      return Status::IoError("S3 GET " + UrlFor(call) +
                             " returned a listing that cannot be read: " + page.status().message());
    }
    for (ObjectInfo& info : page->objects) {
      if (info.key.compare(0, full_prefix.size(), full_prefix) != 0) {
        return Status::IoError("S3 GET " + UrlFor(call) + " listed key '" + info.key +
                               "', which does not start with the requested prefix '" +
                               full_prefix + "'");
      }
      std::string key = info.key.substr(strip.size());
      // Objects written by other tools under names this store could never address (empty
      // segments, "..", control characters) are not objects of this store.
      if (!ValidateKey(key).ok()) continue;
      out.push_back(ObjectInfo{std::move(key), info.size_bytes});
    }
    if (!page->is_truncated) break;
    if (page->next_continuation_token == token) {
      return Status::IoError("S3 GET " + UrlFor(call) +
                             " returned the same continuation token twice; stopping the listing");
    }
    token = page->next_continuation_token;
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status S3Store::Check() { return RunStoreCheck(*this); }

std::string S3Store::ObjectUrl(std::string_view key) const {
  return UrlFor(Call{"GET", FullKey(key), {}, {}});
}

std::string S3Store::Describe(std::string_view key) const {
  return "s3://" + bucket_ + "/" + FullKey(key);
}

Status S3Store::CreateBucket() {
  Call call{"PUT", "", {}, {}};
  if (region_ != "us-east-1") {
    call.body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" + region_ + "</LocationConstraint></CreateBucketConfiguration>";
  }
  KALAM_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status == 200) return Status::OK();
  if (response.status == 409 && ParseS3Error(response.body).code == "BucketAlreadyOwnedByYou") {
    return Status::OK();
  }
  return ResponseError(call, response);
}

}  // namespace kalam::filestore
