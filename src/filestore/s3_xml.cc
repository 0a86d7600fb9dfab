// A minimal recursive-descent XML reader (elements, text, CDATA, comments, PIs, entities) and the
// S3 documents built on it.
#include "filestore/s3_xml.h"

#include <charconv>
#include <cstdint>

namespace kalam::filestore {
namespace {

constexpr int kMaxDepth = 64;

bool IsNameChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == ':' || c == '-' || c == '.' || u >= 0x80;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  Result<XmlElement> Document() {
    if (in_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 byte order mark
    KALAM_RETURN_IF_ERROR(Misc());
    if (pos_ >= in_.size() || in_[pos_] != '<') return Error("expected the root element");
    XmlElement root;
    KALAM_RETURN_IF_ERROR(Element(&root, 0));
    KALAM_RETURN_IF_ERROR(Misc());
    if (pos_ != in_.size()) return Error("content after the root element");
    return root;
  }

 private:
  Status Error(std::string_view what) const {
    return Status::InvalidArgument("malformed XML at byte " + std::to_string(pos_) + ": " +
                                   std::string(what));
  }

  bool StartsWith(std::string_view s) const { return in_.substr(pos_, s.size()) == s; }

  // Skips to just after `end`; false when it never comes.
  bool SkipPast(std::string_view end) {
    size_t at = in_.find(end, pos_);
    if (at == std::string_view::npos) return false;
    pos_ = at + end.size();
    return true;
  }

  // Whitespace, comments and processing instructions between top-level items.
  Status Misc() {
    while (true) {
      while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
      if (StartsWith("<?")) {
        if (!SkipPast("?>")) return Error("unterminated processing instruction");
      } else if (StartsWith("<!--")) {
        if (!SkipPast("-->")) return Error("unterminated comment");
      } else if (StartsWith("<!")) {
        return Error("DOCTYPE and other declarations are not accepted");
      } else {
        return Status::OK();
      }
    }
  }

  Status Name(std::string* out) {
    size_t start = pos_;
    while (pos_ < in_.size() && IsNameChar(in_[pos_])) ++pos_;
    if (pos_ == start) return Error("expected a name");
    *out = std::string(in_.substr(start, pos_ - start));
    return Status::OK();
  }

  // Decodes the entity starting at '&' onto `out`.
  Status Entity(std::string* out) {
    size_t semi = in_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) return Error("unterminated entity");
    std::string_view ent = in_.substr(pos_ + 1, semi - pos_ - 1);
    if (ent == "lt") {
      *out += '<';
    } else if (ent == "gt") {
      *out += '>';
    } else if (ent == "amp") {
      *out += '&';
    } else if (ent == "quot") {
      *out += '"';
    } else if (ent == "apos") {
      *out += '\'';
    } else if (ent.size() >= 2 && ent[0] == '#') {
      bool hex = ent[1] == 'x';
      std::string_view digits = ent.substr(hex ? 2 : 1);
      uint32_t cp = 0;
      auto r = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size() ||
          cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return Error("invalid character reference &" + std::string(ent) + ";");
      }
      AppendUtf8(cp, out);
    } else {
      return Error("unknown entity &" + std::string(ent) + ";");
    }
    pos_ = semi + 1;
    return Status::OK();
  }

  Status Attributes() {
    while (true) {
      while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
      if (pos_ >= in_.size()) return Error("unterminated start tag");
      if (in_[pos_] == '>' || StartsWith("/>")) return Status::OK();
      std::string name;
      KALAM_RETURN_IF_ERROR(Name(&name));
      while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
      if (pos_ >= in_.size() || in_[pos_] != '=') return Error("expected '=' after attribute");
      ++pos_;
      while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
      if (pos_ >= in_.size() || (in_[pos_] != '"' && in_[pos_] != '\'')) {
        return Error("expected a quoted attribute value");
      }
      char quote = in_[pos_++];
      size_t end = in_.find(quote, pos_);
      if (end == std::string_view::npos) return Error("unterminated attribute value");
      pos_ = end + 1;
    }
  }

  Status Element(XmlElement* el, int depth) {
    if (depth >= kMaxDepth) return Error("elements nested too deeply");
    ++pos_;  // '<'
    KALAM_RETURN_IF_ERROR(Name(&el->name));
    KALAM_RETURN_IF_ERROR(Attributes());
    if (StartsWith("/>")) {
      pos_ += 2;
      return Status::OK();
    }
    ++pos_;  // '>'
    while (true) {
      if (pos_ >= in_.size()) return Error("unterminated element <" + el->name + ">");
      char c = in_[pos_];
      if (c == '&') {
        KALAM_RETURN_IF_ERROR(Entity(&el->text));
      } else if (c != '<') {
        size_t next = in_.find_first_of("<&", pos_);
        if (next == std::string_view::npos) next = in_.size();
        el->text.append(in_.substr(pos_, next - pos_));
        pos_ = next;
      } else if (StartsWith("</")) {
        pos_ += 2;
        std::string name;
        KALAM_RETURN_IF_ERROR(Name(&name));
        if (name != el->name) return Error("</" + name + "> closes <" + el->name + ">");
        while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
        if (pos_ >= in_.size() || in_[pos_] != '>') return Error("unterminated end tag");
        ++pos_;
        return Status::OK();
      } else if (StartsWith("<![CDATA[")) {
        size_t start = pos_ + 9;
        size_t end = in_.find("]]>", start);
        if (end == std::string_view::npos) return Error("unterminated CDATA section");
        el->text.append(in_.substr(start, end - start));
        pos_ = end + 3;
      } else if (StartsWith("<!--")) {
        if (!SkipPast("-->")) return Error("unterminated comment");
      } else if (StartsWith("<?")) {
        if (!SkipPast("?>")) return Error("unterminated processing instruction");
      } else if (StartsWith("<!")) {
        return Error("unexpected declaration inside an element");
      } else {
        el->children.emplace_back();
        KALAM_RETURN_IF_ERROR(Element(&el->children.back(), depth + 1));
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
};

// Element names may carry a namespace prefix ("s3:Key"); S3 uses a default namespace instead,
// but compare local names so that either form is read.
std::string_view LocalName(std::string_view name) {
  size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

}  // namespace

const XmlElement* XmlElement::Find(std::string_view child) const {
  for (const XmlElement& c : children) {
    if (LocalName(c.name) == child) return &c;
  }
  return nullptr;
}

Result<XmlElement> ParseXml(std::string_view xml) { return Parser(xml).Document(); }

Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml) {
  KALAM_ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml));
  if (LocalName(root.name) != "ListBucketResult") {
    return Status::InvalidArgument("expected <ListBucketResult>, got <" + root.name + ">");
  }
  ListObjectsPage page;
  for (const XmlElement& c : root.children) {
    if (LocalName(c.name) != "Contents") continue;
    const XmlElement* key = c.Find("Key");
    const XmlElement* size = c.Find("Size");
    if (key == nullptr || key->text.empty()) {
      return Status::InvalidArgument("a <Contents> entry has no <Key>");
    }
    if (size == nullptr) {
      return Status::InvalidArgument("<Contents> of '" + key->text + "' has no <Size>");
    }
    uint64_t n = 0;
    const std::string& t = size->text;
    auto r = std::from_chars(t.data(), t.data() + t.size(), n);
    if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size()) {
      return Status::InvalidArgument("<Size> of '" + key->text + "' is not a number: '" + t + "'");
    }
    page.objects.push_back(ObjectInfo{key->text, n});
  }
  if (const XmlElement* trunc = root.Find("IsTruncated")) {
    if (trunc->text == "true") {
      page.is_truncated = true;
    } else if (trunc->text != "false") {
      return Status::InvalidArgument("<IsTruncated> is '" + trunc->text + "'");
    }
  }
  if (const XmlElement* token = root.Find("NextContinuationToken")) {
    page.next_continuation_token = token->text;
  }
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return Status::InvalidArgument("a truncated listing has no <NextContinuationToken>");
  }
  return page;
}

S3ErrorInfo ParseS3Error(std::string_view xml) {
  S3ErrorInfo info;
  Result<XmlElement> root = ParseXml(xml);
  if (!root.ok() || LocalName(root->name) != "Error") return info;
  if (const XmlElement* code = root->Find("Code")) info.code = code->text;
  if (const XmlElement* message = root->Find("Message")) info.message = message->text;
  return info;
}

}  // namespace kalam::filestore
