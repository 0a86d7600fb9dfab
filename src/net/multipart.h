// MultipartParser: an incremental multipart/form-data (RFC 7578, RFC 2046 §5.1) parser that is fed
// the body in chunks of any size and hands each part's headers and data to a sink as they arrive,
// so a caller can spool large parts to disk without holding them in memory.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kalam::net {

// The headers of one part, as the part's Content-Disposition and Content-Type give them.
struct MultipartPartHeaders {
  // Content-Disposition `name` (form field name). Required: a part without one is an error.
  std::string name;
  // Content-Disposition `filename`, when given (the file's original name).
  std::optional<std::string> filename;
  // Content-Type of the part; empty when absent.
  std::string content_type;
};

// Receives a body's parts in order. A non-OK status from any callback stops the parse and is
// returned by Feed/Finish unchanged.
class MultipartSink {
 public:
  virtual ~MultipartSink() = default;
  virtual Status OnPartBegin(const MultipartPartHeaders& headers) = 0;
  // A piece of the current part's data (may be called many times, with pieces of any size).
  virtual Status OnPartData(std::string_view data) = 0;
  virtual Status OnPartEnd() = 0;
};

// Not thread-safe; one parser per body. Errors are kInvalidArgument with a message naming the
// problem ("missing closing boundary", "part header line too long", …).
class MultipartParser {
 public:
  struct Limits {
    // Bytes of one part's header block (all header lines). Default: 16 KiB.
    size_t max_header_bytes = 16 * 1024;
    // Parts in one body. Default: 1000.
    size_t max_parts = 1000;
  };

  // `boundary` as given in the Content-Type (without the leading "--"). `sink` must outlive the
  // parser.
  MultipartParser(std::string boundary, MultipartSink* sink, Limits limits);
  MultipartParser(std::string boundary, MultipartSink* sink)
      : MultipartParser(std::move(boundary), sink, Limits()) {}

  // Consumes the next bytes of the body.
  Status Feed(std::string_view data);
  // Ends the body: fails unless the closing boundary has been seen.
  Status Finish();

 private:
  enum class State { kPreamble, kAfterBoundary, kHeaders, kData, kEpilogue };
  Status ParseHeaders(std::string_view block);
  Status Step(bool* progressed);

  const std::string delimiter_;  // "\r\n--" + boundary
  MultipartSink* sink_;
  const Limits limits_;
  State state_ = State::kPreamble;
  std::string buf_;  // unconsumed bytes (bounded: headers limit or delimiter length)
  size_t parts_ = 0;
};

// The `boundary` parameter of a `multipart/form-data; boundary=…` Content-Type (quoted or not),
// or kInvalidArgument when the type is not multipart/form-data or the boundary is missing, empty,
// longer than 70 characters (RFC 2046) or holds CR/LF.
Result<std::string> MultipartBoundary(std::string_view content_type);

// True when `content_type` starts with "multipart/form-data" (ASCII case-insensitive).
bool IsMultipartFormData(std::string_view content_type);

}  // namespace kalam::net
