// FILE uploads (multipart SQL) and downloads.
#include "api/file_routes.h"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "api/sql_response_json.h"
#include "common/value_convert.h"
#include "common/value_json.h"
#include "files/file_service.h"
#include "filestore/local_store.h"
#include "filestore/sha256.h"
#include "net/multipart.h"
#include "net/spool_body.h"
#include "sql/parser/file_placeholders.h"

namespace kalam::api {

namespace json = boost::json;
using net::HttpRequest;
using net::HttpResponse;
using net::JsonResponse;
using net::Responder;

namespace {

using SteadyClock = std::chrono::steady_clock;


// One `file:<name>` part, spooled to a file under the staging directory.
struct SpooledFile {
  std::string name;       // <name> of "file:<name>"
  std::string filename;   // original file name (the part's filename, else <name>)
  std::string mime;       // the part's Content-Type; empty → sniffed
  std::string path;       // spool file
  uint64_t size = 0;
  std::string head;       // first bytes, for MIME sniffing
};

// A wire error found while reading the body.
struct PartError {
  int http_status = 400;
  std::string code;
  std::string message;
};

// Collects the fields of a multipart SQL request, spooling file parts to disk as they arrive.
class SqlPartsSink final : public net::MultipartSink {
 public:
  SqlPartsSink(const files::FileLimits& limits, std::string staging_dir, size_t max_text_bytes)
      : limits_(limits), staging_dir_(std::move(staging_dir)), max_text_bytes_(max_text_bytes) {}
  ~SqlPartsSink() override {
    if (out_) std::fclose(out_);
    for (const auto& f : files) {
      std::error_code ec;
      std::filesystem::remove(f.path, ec);
    }
  }

  Status OnPartBegin(const net::MultipartPartHeaders& h) override {
    text_ = nullptr;
    in_file_ = false;
    if (h.name == "sql" || h.name == "params" || h.name == "namespace_id") {
      auto& slot = h.name == "sql" ? sql : h.name == "params" ? params : namespace_id;
      if (slot) return Fail(400, "INVALID_INPUT", "Duplicate part '" + h.name + "'");
      slot = std::string();
      text_ = &*slot;
      text_name_ = h.name;
      return Status::OK();
    }
    if (h.name.rfind("file:", 0) != 0) return Status::OK();  // other parts are ignored
    SpooledFile f;
    f.name = h.name.substr(5);
    if (f.name.empty()) return Fail(400, "INVALID_INPUT", "File part name 'file:' has no name");
    for (const auto& other : files) {
      if (other.name == f.name) {
        return Fail(400, "INVALID_INPUT", "Duplicate file part 'file:" + f.name + "'");
      }
    }
    if (files.size() >= limits_.max_files_per_request) {
      return Fail(400, "TOO_MANY_FILES", "Too many files: maximum " +
                                             std::to_string(limits_.max_files_per_request) +
                                             " allowed");
    }
    f.filename = h.filename && !h.filename->empty() ? *h.filename : f.name;
    f.mime = h.content_type;
    static std::atomic<uint64_t> counter{0};
    f.path = staging_dir_ + "/upload-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)) + "-" +
             std::to_string(SteadyClock::now().time_since_epoch().count());
    out_ = std::fopen(f.path.c_str(), "wbx");
    if (!out_) return Fail(500, "INTERNAL_ERROR", "Failed to stage file: cannot create spool file");
    files.push_back(std::move(f));
    in_file_ = true;
    return Status::OK();
  }

  Status OnPartData(std::string_view data) override {
    if (text_) {
      if (text_->size() + data.size() > max_text_bytes_) {
        if (text_name_ == "sql") {
          return Fail(400, "INVALID_SQL", "SQL text is longer than the maximum of " +
                                              std::to_string(max_text_bytes_) + " bytes");
        }
        return Fail(400, "INVALID_INPUT", "Part '" + text_name_ + "' is too long");
      }
      text_->append(data);
      return Status::OK();
    }
    if (!in_file_) return Status::OK();
    SpooledFile& f = files.back();
    if (f.size + data.size() > limits_.max_size_bytes) {
      return Fail(400, "FILE_TOO_LARGE", "File '" + f.filename + "' exceeds maximum size of " +
                                             std::to_string(limits_.max_size_bytes) + " bytes");
    }
    if (f.head.size() < 16) f.head.append(data.substr(0, 16 - f.head.size()));
    if (std::fwrite(data.data(), 1, data.size(), out_) != data.size()) {
      return Fail(500, "INTERNAL_ERROR", "Failed to stage file: write to the staging directory "
                                         "failed");
    }
    f.size += data.size();
    return Status::OK();
  }

  Status OnPartEnd() override {
    text_ = nullptr;
    if (in_file_) {
      in_file_ = false;
      const int rc = std::fclose(out_);
      out_ = nullptr;
      if (rc != 0) {
        return Fail(500, "INTERNAL_ERROR", "Failed to stage file: write to the staging directory "
                                           "failed");
      }
    }
    return Status::OK();
  }

  std::optional<std::string> sql, params, namespace_id;
  std::vector<SpooledFile> files;
  std::optional<PartError> error;  // set when a callback failed with a wire error

 private:
  Status Fail(int status, std::string code, std::string message) {
    error = PartError{status, std::move(code), message};
    return Status::InvalidArgument(std::move(message));
  }

  const files::FileLimits& limits_;
  const std::string staging_dir_;
  const size_t max_text_bytes_;
  std::string* text_ = nullptr;
  std::string text_name_;
  bool in_file_ = false;
  std::FILE* out_ = nullptr;
};

bool IsBlank(const std::string& s) {
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void RunMultipart(ApiContext* ctx, const HttpRequest& req, const Principal& who,
                  SteadyClock::time_point start, const Responder& respond) {
  auto fail = [&](int status, std::string_view code, const std::string& message) {
    respond(JsonResponse(status, EncodeSqlError(code, message, MillisSince(start))));
  };
  if (!ctx->files) return fail(503, "UNAVAILABLE", "File uploads are not available");
  files::FileService& fs = *ctx->files;
  auto boundary = net::MultipartBoundary(req.Header("Content-Type"));
  if (!boundary.ok()) {
    return fail(400, "INVALID_INPUT", "Multipart parse error: " + boundary.status().message());
  }
  SqlPartsSink sink(fs.limits(), fs.staging_dir(), ctx->limits.max_sql_length);
  {
    net::MultipartParser parser(*boundary, &sink);
    Status st;
    constexpr size_t kSlice = 256 << 10;
    if (req.body_file) {
      // The body was spooled to disk as it arrived: parse it from there, a slice at a time.
      std::FILE* in = std::fopen(req.body_file->path().c_str(), "rb");
      if (!in) return fail(500, "INTERNAL_ERROR", "Failed to read the spooled request body");
      std::string slice(kSlice, '\0');
      while (st.ok()) {
        const size_t n = std::fread(slice.data(), 1, slice.size(), in);
        if (n == 0) break;
        st = parser.Feed(std::string_view(slice.data(), n));
      }
      const bool read_error = std::ferror(in) != 0;
      std::fclose(in);
      if (read_error && st.ok()) {
        return fail(500, "INTERNAL_ERROR", "Failed to read the spooled request body");
      }
    } else {
      for (size_t at = 0; st.ok() && at < req.body.size(); at += kSlice) {
        st = parser.Feed(std::string_view(req.body).substr(at, kSlice));
      }
    }
    if (st.ok()) st = parser.Finish();
    if (!st.ok()) {
      if (sink.error) return fail(sink.error->http_status, sink.error->code, sink.error->message);
      return fail(400, "INVALID_INPUT", "Multipart parse error: " + st.message());
    }
  }
  if (!sink.sql || IsBlank(*sink.sql)) return fail(400, "EMPTY_SQL", "SQL statement is required");

  sql::SqlRequest request;
  request.sql = *sink.sql;
  if (sink.namespace_id) request.namespace_id = *sink.namespace_id;
  if (sink.params && !IsBlank(*sink.params)) {
    boost::system::error_code ec;
    json::value v = json::parse(*sink.params, ec);
    if (ec) return fail(400, "INVALID_PARAMETER", "Invalid params JSON: " + ec.message());
    if (!v.is_array()) return fail(400, "INVALID_PARAMETER", "Params must be a JSON array");
    const auto& arr = v.as_array();
    if (arr.size() > ctx->limits.max_parameters) {
      return fail(400, "INVALID_PARAMETER",
                  "Too many parameters: " + std::to_string(arr.size()) + " given, at most " +
                      std::to_string(ctx->limits.max_parameters) + " allowed");
    }
    request.has_params = true;
    for (size_t i = 0; i < arr.size(); ++i) {
      auto value = ValueFromJsonParam(arr[i], static_cast<int>(i + 1));
      if (!value.ok()) return fail(400, "INVALID_PARAMETER", value.status().message());
      request.params.push_back(std::move(*value));
    }
  }

  // Placeholders (a text that does not lex has none; the executor reports its error).
  std::vector<sql::parser::FilePlaceholder> placeholders;
  if (auto found = sql::parser::FindFilePlaceholders(request.sql); found.ok()) {
    placeholders = std::move(*found);
  }
  const sql::Caller caller{who.user_id, who.role};
  auto run_plain = [&] {
    sql::SqlResponse response = ctx->executor->Execute(request, caller);
    int status = 200;
    std::string out = EncodeSqlResponse(response, MillisSince(start), who.role, &status);
    respond(JsonResponse(status, std::move(out)));
  };
  if (placeholders.empty() && sink.files.empty()) return run_plain();

  // The target table and scope (spec order: statement count, target, table, type).
  auto target = ctx->executor->ResolveFileTarget(request, caller);
  if (!target.ok()) {
    sql::SqlResponse response;
    response.error = target.status();
    if (target.status().code() == StatusCode::kInvalidArgument) response.error_code = "INVALID_INPUT";
    int status = 400;
    std::string out = EncodeSqlResponse(response, MillisSince(start), who.role, &status);
    return respond(JsonResponse(status, std::move(out)));
  }
  std::set<std::string> wanted;
  for (const auto& p : placeholders) wanted.insert(p.name);
  std::map<std::string, const SpooledFile*> by_name;
  for (const auto& f : sink.files) by_name[f.name] = &f;
  for (const auto& name : wanted) {
    if (!by_name.count(name)) {
      return fail(400, "MISSING_FILE", "FILE(\"" + name + "\") has no file part 'file:" + name +
                                           "'");
    }
  }
  for (const auto& f : sink.files) {
    if (!wanted.count(f.name)) {
      return fail(400, "EXTRA_FILE", "File part 'file:" + f.name + "' is not used by a FILE(\"" +
                                         f.name + "\") placeholder");
    }
  }
  std::vector<std::string> mimes;
  for (const auto& f : sink.files) {
    std::string mime = f.mime.empty() ? files::SniffMime(f.head, f.filename) : f.mime;
    if (!fs.MimeAllowed(mime)) {
      return fail(400, "INVALID_MIME_TYPE",
                  "MIME type '" + mime + "' not allowed for file '" + f.filename + "'");
    }
    mimes.push_back(std::move(mime));
  }

  // Store the files (recorded as staged), run the statement, and discard them if it fails.
  const catalog::TableDef& def = *target->table;
  std::vector<files::FileRef> stored;
  std::map<std::string, std::string> literals;
  for (size_t i = 0; i < sink.files.size(); ++i) {
    const SpooledFile& f = sink.files[i];
    auto digest = filestore::Sha256OfFile(f.path);
    Result<files::FileRef> ref =
        digest.ok() ? fs.Stage(def, target->scope, f.path, f.filename, mimes[i], digest->size_bytes,
                               digest->sha256)
                    : Result<files::FileRef>(digest.status());
    if (!ref.ok()) {
      fs.Discard(def.table_id, stored);
      const bool admin = auth::RoleAtLeast(who.role, auth::Role::kDba);
      return fail(500, "INTERNAL_ERROR",
                  admin ? "Failed to stage file: " + ref.status().message() : "SQL request failed");
    }
    literals[f.name] = ref->ToJson();
    stored.push_back(std::move(*ref));
  }
  request.sql = sql::parser::ReplaceFilePlaceholders(request.sql, placeholders, literals);
  sql::SqlResponse response = ctx->executor->Execute(request, caller);
  if (!response.error.ok()) fs.Discard(def.table_id, stored);
  int status = 200;
  std::string out = EncodeSqlResponse(response, MillisSince(start), who.role, &status);
  respond(JsonResponse(status, std::move(out)));
}

// ---- download -------------------------------------------------------------------------------

constexpr std::string_view kFilesPrefix = "/v1/files/";

HttpResponse CodedError(int status, std::string_view code, std::string_view message) {
  return JsonResponse(status, EncodeCodedError(code, message));
}

// The value of query parameter `name` (percent-decoded); nullopt when absent or malformed.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      if (eq == std::string_view::npos) return std::string();
      std::string raw(pair.substr(eq + 1));
      for (char& c : raw) {
        if (c == '+') c = ' ';
      }
      return net::PercentDecode(raw);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool SafeSegment(const std::string& s) {
  if (s.empty() || s.find("..") != std::string::npos) return false;
  for (char c : s) {
    if (c == '/' || c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

std::string_view SharedLevelDebugName(catalog::AccessLevel level) {
  switch (level) {
    case catalog::AccessLevel::kPublic: return "Public";
    case catalog::AccessLevel::kPrivate: return "Private";
    case catalog::AccessLevel::kRestricted: return "Restricted";
    case catalog::AccessLevel::kDba: return "Dba";
  }
  return "Private";
}

// A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range of an object of `size` bytes:
// [first, last]. nullopt when unsatisfiable or malformed (→ 416).
std::optional<std::pair<uint64_t, uint64_t>> ParseRange(std::string_view h, uint64_t size) {
  constexpr std::string_view kBytes = "bytes=";
  if (h.substr(0, kBytes.size()) != kBytes) return std::nullopt;
  h.remove_prefix(kBytes.size());
  if (h.find(',') != std::string_view::npos) return std::nullopt;
  size_t dash = h.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto num = [](std::string_view s) -> std::optional<uint64_t> {
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
  };
  std::string_view a = h.substr(0, dash), b = h.substr(dash + 1);
  if (a.empty()) {
    auto n = num(b);
    if (!n || *n == 0 || size == 0) return std::nullopt;
    uint64_t len = std::min(*n, size);
    return std::make_pair(size - len, size - 1);
  }
  auto first = num(a);
  if (!first || *first >= size) return std::nullopt;
  uint64_t last = size - 1;
  if (!b.empty()) {
    auto l = num(b);
    if (!l || *l < *first) return std::nullopt;
    last = std::min(*l, size - 1);
  }
  return std::make_pair(*first, last);
}

// The quoted ETag of a file: its id names one immutable upload.
std::string ETagOf(const std::string& stored_name) {
  return "\"" + stored_name.substr(0, stored_name.find_first_of("-.")) + "\"";
}

bool IfNoneMatchHits(std::string_view header, const std::string& etag) {
  if (header.empty()) return false;
  if (header == "*") return true;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view tag = header.substr(pos, comma == std::string_view::npos
                                                  ? std::string_view::npos
                                                  : comma - pos);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

// The bytes [offset, offset + length) of a stored file of a remote (S3) storage, sent in pieces
// each read with one ranged read on the worker pool when the connection wants it, so a large
// download holds one piece in memory at a time, not the file.
class StoreBodySource final : public net::BodySource,
                              public std::enable_shared_from_this<StoreBodySource> {
 public:
  StoreBodySource(ThreadPool* workers, std::shared_ptr<filestore::ObjectStore> store,
                  std::string key, uint64_t offset, uint64_t length)
      : workers_(workers), store_(std::move(store)), key_(std::move(key)), offset_(offset),
        length_(length) {}

  uint64_t length() const override { return length_; }

  void Next(size_t max_bytes, std::function<void(bool, std::string)> done) override {
    // The server asks again only after `done`, so sent_ is never touched by two threads at once.
    bool queued = workers_->Submit([self = shared_from_this(), max_bytes, done] {
      auto piece = self->store_->GetRange(self->key_, self->offset_ + self->sent_, max_bytes);
      if (!piece.ok() || piece->empty()) {
        spdlog::error("Download of {} failed after {} of {} bytes: {}",
                      self->store_->Describe(self->key_), self->sent_, self->length_,
                      piece.ok() ? "the object ended early" : piece.status().ToString());
        return done(false, std::string());
      }
      self->sent_ += piece->size();
      done(true, std::move(*piece));
    });
    if (!queued) done(false, std::string());  // shutting down
  }

 private:
  ThreadPool* const workers_;
  const std::shared_ptr<filestore::ObjectStore> store_;
  const std::string key_;
  const uint64_t offset_;
  const uint64_t length_;
  uint64_t sent_ = 0;
};

void HandleDownload(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  std::optional<Principal> who = AuthenticateOrRespond(*ctx->auth, req, respond);
  if (!who) return;
  const auto invalid = [&] { respond(CodedError(400, "INVALID_INPUT", "Invalid file path")); };
  // {namespace}/{table}/{sub}/{stored_name}, each percent-decoded and checked.
  std::vector<std::string> segs;
  std::string_view rest = std::string_view(req.path).substr(kFilesPrefix.size());
  while (true) {
    size_t slash = rest.find('/');
    auto seg = net::PercentDecode(rest.substr(0, slash));
    if (!seg || !SafeSegment(*seg)) return invalid();
    segs.push_back(std::move(*seg));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (segs.size() != 4 || !files::IsValidSub(segs[2]) || !files::StoredNameId(segs[3])) {
    return invalid();
  }
  auto user_id = QueryParam(req.query, "user_id");
  if (!ctx->files || !ctx->catalog) {
    return respond(CodedError(503, "UNAVAILABLE", "File downloads are not available"));
  }
  const std::string ns = catalog::LowerName(segs[0]), table = catalog::LowerName(segs[1]);
  auto def = ctx->catalog->snapshot()->FindTable(ns, table);
  if (!def) {
    return respond(JsonResponse(404, "{\"error\":" + [&] {
      std::string s;
      AppendJsonString("Table '" + ns + ":" + table + "' not found", &s);
      return s;
    }() + "}"));
  }
  auto denied = [&](const std::string& message) {
    respond(JsonResponse(403, EncodeSqlError("PERMISSION_DENIED", message, 0.0)));
  };
  std::string scope;
  switch (def->type) {
    case catalog::TableType::kStream:
    case catalog::TableType::kSystem:
      return respond(CodedError(400, "INVALID_INPUT",
                                "File storage is not supported for stream or system tables"));
    case catalog::TableType::kUser:
      scope = who->user_id;
      if (user_id && !user_id->empty() && *user_id != who->user_id) {
        auto target = ctx->catalog->GetUser(*user_id);
        if (!target || target->deleted() ||
            !sql::MayExecuteAs(who->role, who->user_id, target->role, target->user_id)) {
          return denied("Requested user is not allowed for the current role");
        }
        scope = *user_id;
      }
      break;
    case catalog::TableType::kShared:
      if (user_id) {
        return respond(CodedError(400, "INVALID_INPUT", "user_id is only valid for user tables"));
      }
      if (!sql::CheckTableAccess(sql::Caller{who->user_id, who->role}, *def, false).ok()) {
        return denied("Shared table access denied (access_level=" +
                      std::string(SharedLevelDebugName(def->options.access_level)) + ")");
      }
      break;
  }
  auto loc = ctx->files->Locate(*def, scope, segs[2], segs[3]);
  if (!loc.ok()) return invalid();
  const std::string stored_name = segs[3];
  const std::string file_id = *files::StoredNameId(stored_name);
  const catalog::TableId table_id = def->table_id;
  const std::string etag = ETagOf(stored_name);
  const std::string if_none_match(req.Header("If-None-Match"));
  const std::string range(req.Header("Range"));
  const bool head = req.method == "HEAD";
  auto shared = std::make_shared<Responder>(std::move(respond));
  auto not_found = [shared] {
    (*shared)(CodedError(404, "FILE_NOT_FOUND", "File not found"));
  };
  bool queued = ctx->workers->Submit([ctx, shared, loc = *loc, stored_name, etag, if_none_match,
                                      range, not_found, head, file_id, table_id] {
    // Only files a committed row refers to are served (not staged uploads of running statements).
    auto mime = ctx->files->CommittedMime(table_id, file_id);
    if (!mime.ok()) return (*shared)(CodedError(500, "INTERNAL_ERROR", "Failed to read file"));
    if (!*mime) return not_found();
    auto store = ctx->files->Store(loc.storage_id);
    if (!store.ok()) return not_found();
    // A local storage's file is sent from an open descriptor, in pieces (never all in memory).
    auto* local = dynamic_cast<filestore::LocalStore*>(store->get());
    std::optional<std::pair<int, uint64_t>> opened;
    Result<uint64_t> size = uint64_t{0};
    if (local) {
      auto o = local->OpenForRead(loc.key);
      if (o.ok()) {
        opened = *o;
        size = o->second;
      } else {
        size = o.status();
      }
    } else {
      size = (*store)->Size(loc.key);
    }
    // Owns the descriptor until it is handed to the response.
    std::shared_ptr<net::FileSlice> fd_owner;
    if (opened) fd_owner = std::make_shared<net::FileSlice>(opened->first, 0, 0);
    if (!size.ok()) {
      if (size.status().code() == StatusCode::kNotFound) return not_found();
      return (*shared)(CodedError(500, "INTERNAL_ERROR", "Failed to read file"));
    }
    // The MIME type recorded at upload (declared or sniffed); nosniff keeps browsers to it.
    HttpResponse r;
    r.content_type = mime->value().empty() ? "application/octet-stream" : **mime;
    r.headers.emplace_back("ETag", etag);
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Accept-Ranges", "bytes");
    r.headers.emplace_back("Cache-Control", "private, max-age=0, must-revalidate");
    r.headers.emplace_back("Content-Disposition", "inline; filename=\"" + stored_name + "\"");
    if (IfNoneMatchHits(if_none_match, etag)) {
      r.status = 304;
      r.content_type.clear();
      return (*shared)(std::move(r));
    }
    uint64_t first = 0, count = *size;
    if (!range.empty()) {
      auto span = ParseRange(range, *size);
      if (!span) {
        HttpResponse bad = CodedError(416, "RANGE_NOT_SATISFIABLE", "Requested range not satisfiable");
        bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(*size));
        return (*shared)(std::move(bad));
      }
      first = span->first;
      count = span->second - span->first + 1;
      r.status = 206;
      r.headers.emplace_back("Content-Range", "bytes " + std::to_string(span->first) + "-" +
                                                  std::to_string(span->second) + "/" +
                                                  std::to_string(*size));
    }
    if (!head && fd_owner) {
      // Hand the descriptor over (the owner above gives it up).
      r.body_file = std::make_shared<net::FileSlice>(::dup(fd_owner->fd()), first, count);
      if (r.body_file->fd() < 0) {
        return (*shared)(CodedError(500, "INTERNAL_ERROR", "Failed to read file"));
      }
    } else if (count > 0) {
      // A remote storage's file is read in ranges as the connection sends it (for HEAD the
      // server only takes its length).
      r.body_source = std::make_shared<StoreBodySource>(ctx->workers, *store, loc.key, first, count);
    }
    (*shared)(std::move(r));
  });
  if (!queued) (*shared)(CodedError(503, "SHUTTING_DOWN", "Server is shutting down"));
}

}  // namespace

void HandleMultipartSql(ApiContext* ctx, HttpRequest&& req, Responder respond,
                        const Principal& who, SteadyClock::time_point start) {
  // Spooling and storing files is I/O: off the I/O thread.
  auto shared_req = std::make_shared<HttpRequest>(std::move(req));
  auto shared = std::make_shared<Responder>(std::move(respond));
  bool queued = ctx->workers->Submit([ctx, shared_req = std::move(shared_req), shared, who,
                                      start]() mutable {
    // Answer only once the spool files (parts and body) are gone, so that a client that sees the
    // response never sees them.
    HttpResponse out;
    RunMultipart(ctx, *shared_req, who, start, [&out](HttpResponse r) { out = std::move(r); });
    shared_req.reset();
    (*shared)(std::move(out));
  });
  if (!queued) {
    (*shared)(JsonResponse(503, EncodeSqlError("SHUTTING_DOWN", "Server is shutting down", 0.0)));
  }
}

void AddFileRoutes(net::Router& router,
                   const std::function<net::Handler(void (*)(ApiContext*, HttpRequest&&,
                                                             Responder))>& bind) {
  router.AddPrefix("GET", std::string(kFilesPrefix), bind(HandleDownload));
}

}  // namespace kalam::api
