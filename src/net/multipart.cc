// Incremental multipart/form-data parsing: delimiter search over a small carry-over buffer.
#include "net/multipart.h"

#include <cctype>

#include "net/http_types.h"

namespace kalam::net {

namespace {

Status Bad(std::string what) { return Status::InvalidArgument(std::move(what)); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses `; key=value; key="quoted"` parameters after a header's first token. Keys are
// lower-cased; quoted values have their backslash escapes undone.
Result<std::vector<std::pair<std::string, std::string>>> ParseParams(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ';')) ++i;
    if (i >= s.size()) break;
    size_t eq = s.find('=', i);
    if (eq == std::string_view::npos) {
      // A bare flag parameter: skip to the next ';'.
      size_t semi = s.find(';', i);
      i = semi == std::string_view::npos ? s.size() : semi;
      continue;
    }
    std::string key(Trim(s.substr(i, eq - i)));
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    i = eq + 1;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        char c = s[i++];
        if (c == '\\' && i < s.size()) {
          value += s[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) return Bad("unterminated quoted parameter '" + key + "'");
    } else {
      size_t semi = s.find(';', i);
      size_t end = semi == std::string_view::npos ? s.size() : semi;
      value = std::string(Trim(s.substr(i, end - i)));
      i = end;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace

bool IsMultipartFormData(std::string_view content_type) {
  constexpr std::string_view kType = "multipart/form-data";
  return content_type.size() >= kType.size() &&
         EqualsIgnoreCase(content_type.substr(0, kType.size()), kType);
}

Result<std::string> MultipartBoundary(std::string_view content_type) {
  if (!IsMultipartFormData(content_type)) return Bad("Content-Type is not multipart/form-data");
  KALAM_ASSIGN_OR_RETURN(auto params,
                         ParseParams(content_type.substr(std::string_view("multipart/form-data").size())));
  for (auto& [key, value] : params) {
    if (key != "boundary") continue;
    if (value.empty()) return Bad("empty boundary");
    if (value.size() > 70) return Bad("boundary longer than 70 characters");
    for (char c : value) {
      if (c == '\r' || c == '\n' || c == '\0') return Bad("boundary holds a control character");
    }
    return value;
  }
  return Bad("missing boundary in Content-Type");
}

MultipartParser::MultipartParser(std::string boundary, MultipartSink* sink, Limits limits)
    : delimiter_("\r\n--" + boundary), sink_(sink), limits_(limits) {
  // The first delimiter may start the body without a preceding CRLF: pretend there was one.
  buf_ = "\r\n";
}

Status MultipartParser::ParseHeaders(std::string_view block) {
  MultipartPartHeaders h;
  bool have_disposition = false;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) continue;
    for (char c : line) {
      if (c == '\r' || c == '\n' || c == '\0') return Bad("control character in a part header");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Bad("malformed part header line");
    }
    std::string_view name = Trim(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Disposition")) {
      if (have_disposition) return Bad("duplicate Content-Disposition in a part");
      have_disposition = true;
      size_t semi = value.find(';');
      std::string_view kind = Trim(value.substr(0, semi));
      if (!EqualsIgnoreCase(kind, "form-data")) return Bad("part disposition is not form-data");
      if (semi == std::string_view::npos) return Bad("part has no name");
      KALAM_ASSIGN_OR_RETURN(auto params, ParseParams(value.substr(semi + 1)));
      bool have_name = false;
      for (auto& [k, v] : params) {
        if (k == "name") {
          h.name = std::move(v);
          have_name = true;
        } else if (k == "filename") {
          h.filename = std::move(v);
        }
      }
      if (!have_name) return Bad("part has no name");
    } else if (EqualsIgnoreCase(name, "Content-Type")) {
      h.content_type = std::string(value);
    }
  }
  if (!have_disposition) return Bad("part without Content-Disposition");
  if (++parts_ > limits_.max_parts) {
    return Bad("more than " + std::to_string(limits_.max_parts) + " parts");
  }
  return sink_->OnPartBegin(h);
}

Status MultipartParser::Step(bool* progressed) {
  *progressed = false;
  switch (state_) {
    case State::kPreamble: {
      size_t at = buf_.find(delimiter_);
      if (at == std::string::npos) {
        if (buf_.size() >= delimiter_.size()) buf_.erase(0, buf_.size() - (delimiter_.size() - 1));
        return Status::OK();
      }
      buf_.erase(0, at + delimiter_.size());
      state_ = State::kAfterBoundary;
      *progressed = true;
      return Status::OK();
    }
    case State::kAfterBoundary: {
      // Optional transport padding, then CRLF (next part) or "--" (end).
      size_t i = 0;
      while (i < buf_.size() && (buf_[i] == ' ' || buf_[i] == '\t')) ++i;
      if (i > 64) return Bad("malformed boundary line");
      if (buf_.size() < i + 2) return Status::OK();
      if (buf_.compare(i, 2, "--") == 0) {
        state_ = State::kEpilogue;
        buf_.clear();
      } else if (buf_.compare(i, 2, "\r\n") == 0) {
        buf_.erase(0, i + 2);
        state_ = State::kHeaders;
      } else {
        return Bad("malformed boundary line");
      }
      *progressed = true;
      return Status::OK();
    }
    case State::kHeaders: {
      size_t end;
      size_t skip;
      if (buf_.compare(0, 2, "\r\n") == 0) {
        end = 0;
        skip = 2;
      } else {
        end = buf_.find("\r\n\r\n");
        skip = 4;
      }
      if (end == std::string::npos) {
        if (buf_.size() > limits_.max_header_bytes) return Bad("part headers too long");
        return Status::OK();
      }
      if (end > limits_.max_header_bytes) return Bad("part headers too long");
      KALAM_RETURN_IF_ERROR(ParseHeaders(std::string_view(buf_).substr(0, end)));
      buf_.erase(0, end + skip);
      state_ = State::kData;
      *progressed = true;
      return Status::OK();
    }
    case State::kData: {
      size_t at = buf_.find(delimiter_);
      if (at == std::string::npos) {
        // Keep what could be the start of a delimiter split across reads.
        if (buf_.size() >= delimiter_.size()) {
          size_t emit = buf_.size() - (delimiter_.size() - 1);
          KALAM_RETURN_IF_ERROR(sink_->OnPartData(std::string_view(buf_).substr(0, emit)));
          buf_.erase(0, emit);
        }
        return Status::OK();
      }
      if (at > 0) KALAM_RETURN_IF_ERROR(sink_->OnPartData(std::string_view(buf_).substr(0, at)));
      KALAM_RETURN_IF_ERROR(sink_->OnPartEnd());
      buf_.erase(0, at + delimiter_.size());
      state_ = State::kAfterBoundary;
      *progressed = true;
      return Status::OK();
    }
    case State::kEpilogue:
      buf_.clear();
      return Status::OK();
  }
  return Status::OK();
}

Status MultipartParser::Feed(std::string_view data) {
  buf_.append(data);
  bool progressed = true;
  while (progressed) KALAM_RETURN_IF_ERROR(Step(&progressed));
  return Status::OK();
}

Status MultipartParser::Finish() {
  if (state_ != State::kEpilogue) return Bad("missing closing boundary");
  return Status::OK();
}

}  // namespace kalam::net
