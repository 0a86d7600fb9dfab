// The topic statements' grammar, over the statement's tokens.
#include "sql/parser/topic_parser.h"

#include <charconv>
#include <limits>

#include "sql/parser/lexer.h"

namespace kalam::sql::parser {

std::string_view TopicOpName(TopicOp op) {
  switch (op) {
    case TopicOp::kInsert: return "insert";
    case TopicOp::kUpdate: return "update";
    case TopicOp::kDelete: return "delete";
  }
  return "insert";
}

std::string_view TopicOpTitle(TopicOp op) {
  switch (op) {
    case TopicOp::kInsert: return "Insert";
    case TopicOp::kUpdate: return "Update";
    case TopicOp::kDelete: return "Delete";
  }
  return "Insert";
}

std::string_view PayloadModeName(PayloadMode mode) {
  switch (mode) {
    case PayloadMode::kFull: return "full";
    case PayloadMode::kKey: return "key";
    case PayloadMode::kDiff: return "diff";
  }
  return "full";
}

namespace {

using Kind = TopicStatement::Kind;

class Cursor {
 public:
  explicit Cursor(const SqlStatement& stmt) : stmt_(stmt), t_(stmt.tokens) {}
  bool AtEnd() const { return i_ >= t_.size(); }
  bool IsWord(std::string_view w, size_t ahead = 0) const {
    return i_ + ahead < t_.size() && t_[i_ + ahead].IsWord(w);
  }
  bool IsPunct(char c) const { return i_ < t_.size() && t_[i_].IsPunct(c); }
  const Token& Next() { return t_[i_++]; }
  const Token* Peek() const { return i_ < t_.size() ? &t_[i_] : nullptr; }
  size_t pos() const { return i_; }
  void Seek(size_t i) { i_ = i; }
  std::string Current() const {
    return AtEnd() ? "end of statement" : "'" + std::string(stmt_.Raw(i_)) + "'";
  }
  Status Expected(std::string_view what, std::string_view after) const {
    return Status::InvalidSql("Expected " + std::string(what) + " after " + std::string(after) +
                              ", found " + Current());
  }
  Status ExpectWord(std::string_view w, std::string_view after) {
    if (!IsWord(w)) return Expected(w, after);
    ++i_;
    return Status::OK();
  }
  const SqlStatement& stmt() const { return stmt_; }

 private:
  const SqlStatement& stmt_;
  const std::vector<Token>& t_;
  size_t i_ = 0;
};

// A name part: bare or quoted identifier, or (for topic names) a bare word of any spelling.
Result<QualifiedName> ParseName(Cursor& c, std::string_view what, std::string_view after) {
  const Token* t = c.Peek();
  if (!t || !t->IsName()) return c.Expected(what, after);
  QualifiedName name;
  name.name = c.Next().value;
  if (c.IsPunct('.')) {
    c.Next();
    const Token* n = c.Peek();
    if (!n || !n->IsName()) return c.Expected(std::string(what) + " name", after);
    name.ns = name.name;
    name.name = c.Next().value;
  }
  return name;
}

Result<uint64_t> ParseUnsigned(const Token& t) {
  uint64_t v = 0;
  if (t.kind != TokenKind::kInteger) return Status::InvalidSql("not an integer");
  auto [end, ec] = std::from_chars(t.value.data(), t.value.data() + t.value.size(), v);
  if (ec != std::errc() || end != t.value.data() + t.value.size()) {
    return Status::InvalidSql("not an integer");
  }
  return v;
}

Status ParseTopicName(Cursor& c, TopicStatement* out, std::string_view after) {
  KALAM_ASSIGN_OR_RETURN(QualifiedName name, ParseName(c, "a topic name", after));
  out->topic_ns = name.ns;
  out->topic_name = name.name;
  return Status::OK();
}

Result<TopicOp> ParseOp(Cursor& c) {
  if (c.AtEnd()) return c.Expected("INSERT, UPDATE or DELETE", "ON");
  const Token& t = c.Next();
  if (t.IsWord("INSERT")) return TopicOp::kInsert;
  if (t.IsWord("UPDATE")) return TopicOp::kUpdate;
  if (t.IsWord("DELETE")) return TopicOp::kDelete;
  return Status::InvalidSql("Invalid operation '" + ToUpperAscii(t.value) +
                            "'. Expected INSERT, UPDATE, or DELETE");
}

// WITH (payload = 'key'|'full'|'diff'), the value quoted or not.
Status ParseWith(Cursor& c, TopicStatement* out) {
  if (!c.IsPunct('(')) return c.Expected("'('", "WITH");
  c.Next();
  bool have_payload = false;
  while (!c.AtEnd() && !c.IsPunct(')')) {
    const Token& key = c.Next();
    if (!key.IsName()) return c.Expected("an option name", "WITH (");
    if (c.AtEnd() || !c.Peek()->IsOperator("=")) return c.Expected("'='", key.value);
    c.Next();
    if (c.AtEnd()) return c.Expected("a value", key.value + " =");
    const Token& value = c.Next();
    if (ToUpperAscii(key.value) != "PAYLOAD") {
      return Status::InvalidSql("Unknown option '" + key.value +
                                "' in WITH clause; the only option is 'payload'");
    }
    const std::string mode = ToUpperAscii(value.value);
    if (mode == "FULL") out->payload = PayloadMode::kFull;
    else if (mode == "KEY") out->payload = PayloadMode::kKey;
    else if (mode == "DIFF") out->payload = PayloadMode::kDiff;
    else {
      return Status::InvalidSql("Invalid payload mode '" + value.value +
                                "'. Expected 'key', 'full', or 'diff'");
    }
    have_payload = true;
    if (c.IsPunct(',')) c.Next();
  }
  if (!c.IsPunct(')')) return c.Expected("')'", "WITH (…");
  c.Next();
  if (!have_payload) return Status::InvalidSql("Expected 'payload' parameter in WITH clause");
  return Status::OK();
}

Status ParseAlter(Cursor& c, TopicStatement* out) {
  if (c.IsWord("SET")) {
    c.Next();
    out->kind = Kind::kSetOptions;
    if (!c.IsPunct('(')) return c.Expected("'('", "SET");
    c.Next();
    while (!c.AtEnd() && !c.IsPunct(')')) {
      const Token& key = c.Next();
      if (c.AtEnd() || !c.Peek()->IsOperator("=")) return c.Expected("'='", key.value);
      c.Next();
      if (c.AtEnd()) return c.Expected("a value", key.value + " =");
      auto v = ParseUnsigned(c.Next());
      const std::string name = ToUpperAscii(key.value);
      if (name != "RETENTION_SECONDS" && name != "RETENTION_MAX_BYTES") {
        return Status::InvalidSql("Unknown topic option '" + key.value +
                                  "'; expected retention_seconds or retention_max_bytes");
      }
      if (!v.ok() || *v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Status::InvalidSql("Option '" + key.value + "' must be a non-negative integer");
      }
      if (name == "RETENTION_SECONDS") out->retention_seconds = static_cast<int64_t>(*v);
      else out->retention_max_bytes = static_cast<int64_t>(*v);
      if (c.IsPunct(',')) c.Next();
    }
    if (!c.IsPunct(')')) return c.Expected("')'", "SET (…");
    c.Next();
    if (!out->retention_seconds && !out->retention_max_bytes) {
      return Status::InvalidSql("ALTER TOPIC … SET needs retention_seconds or retention_max_bytes");
    }
    return Status::OK();
  }
  if (c.IsWord("DROP")) {
    out->kind = Kind::kDropSource;
  } else if (c.IsWord("ADD")) {
    out->kind = Kind::kAddSource;
  } else {
    return c.Expected("ADD SOURCE, DROP SOURCE or SET", "ALTER TOPIC " + out->topic_name);
  }
  c.Next();
  KALAM_RETURN_IF_ERROR(c.ExpectWord("SOURCE", out->kind == Kind::kAddSource ? "ADD" : "DROP"));
  KALAM_ASSIGN_OR_RETURN(out->source, ParseName(c, "a table name", "SOURCE"));
  KALAM_RETURN_IF_ERROR(c.ExpectWord("ON", out->source.ToString()));
  KALAM_ASSIGN_OR_RETURN(out->op, ParseOp(c));
  if (out->kind == Kind::kDropSource) return Status::OK();
  if (c.IsWord("WHERE")) {
    c.Next();
    const size_t begin = c.pos();
    // The expression runs up to a top-level `WITH (` or the end.
    size_t depth = 0;
    size_t end = begin;
    const auto& t = c.stmt().tokens;
    for (; end < t.size(); ++end) {
      if (t[end].IsPunct('(')) ++depth;
      else if (t[end].IsPunct(')') && depth > 0) --depth;
      else if (depth == 0 && t[end].IsWord("WITH") && end + 1 < t.size() &&
               t[end + 1].IsPunct('(')) {
        break;
      }
    }
    if (end == begin) return Status::InvalidSql("Expected an expression after WHERE");
    out->where = SliceStatement(c.stmt(), begin, end);
    c.Seek(end);
  }
  if (c.IsWord("WITH")) {
    c.Next();
    KALAM_RETURN_IF_ERROR(ParseWith(c, out));
  }
  return Status::OK();
}

// CONSUME's and ACK's optional clauses, in any order, each at most once.
Status ParseConsumerClauses(Cursor& c, TopicStatement* out) {
  bool seen_from = false, seen_limit = false, seen_upto = false;
  while (!c.AtEnd()) {
    const Token& word = c.Next();
    if (word.IsWord("GROUP") && !out->group) {
      if (c.AtEnd() || (c.Peek()->kind != TokenKind::kString && !c.Peek()->IsName())) {
        return c.Expected("a group name in quotes", "GROUP");
      }
      out->group = c.Next().value;
    } else if (word.IsWord("FROM") && out->kind == Kind::kConsume && !seen_from) {
      seen_from = true;
      if (c.IsWord("EARLIEST")) {
        out->start = TopicStatement::Start::kEarliest;
        c.Next();
      } else if (c.IsWord("LATEST")) {
        out->start = TopicStatement::Start::kLatest;
        c.Next();
      } else {
        if (c.AtEnd()) return c.Expected("EARLIEST, LATEST or an offset", "FROM");
        const Token& t = c.Next();
        auto v = ParseUnsigned(t);
        if (!v.ok()) {
          return Status::InvalidSql("Invalid offset '" + t.value +
                                    "'. Must be a non-negative integer");
        }
        out->start = TopicStatement::Start::kOffset;
        out->start_offset = *v;
      }
    } else if (word.IsWord("LIMIT") && out->kind == Kind::kConsume && !seen_limit) {
      seen_limit = true;
      if (c.AtEnd()) return c.Expected("a number", "LIMIT");
      const Token& t = c.Next();
      auto v = ParseUnsigned(t);
      if (!v.ok()) return Status::InvalidSql("Invalid LIMIT '" + t.value +
                                             "'. Must be a non-negative integer");
      out->limit = *v;
    } else if (word.IsWord("PARTITION") && !out->partition) {
      if (c.AtEnd()) return c.Expected("a partition number", "PARTITION");
      const Token& t = c.Next();
      auto v = ParseUnsigned(t);
      if (!v.ok() || *v > std::numeric_limits<uint32_t>::max()) {
        return Status::InvalidSql("Invalid partition '" + t.value +
                                  "'. Must be a non-negative integer");
      }
      out->partition = static_cast<uint32_t>(*v);
    } else if (word.IsWord("UPTO") && out->kind == Kind::kAck && !seen_upto) {
      KALAM_RETURN_IF_ERROR(c.ExpectWord("OFFSET", "UPTO"));
      if (c.AtEnd()) return Status::InvalidSql("ACK requires UPTO OFFSET clause");
      const Token& t = c.Next();
      std::string text = t.value;
      if (t.IsOperator("-") && !c.AtEnd()) text += c.Next().value;
      auto v = ParseUnsigned(t);
      if (!v.ok()) {
        return Status::InvalidSql("Invalid offset '" + text + "'. Must be a non-negative integer");
      }
      out->upto_offset = *v;
      seen_upto = true;
    } else {
      return Status::InvalidSql("Unexpected '" + word.value + "' in " +
                                (out->kind == Kind::kAck ? "ACK" : "CONSUME") + " statement");
    }
  }
  if (out->kind == Kind::kAck) {
    if (!out->group) return Status::InvalidSql("ACK requires GROUP clause");
    if (!seen_upto) return Status::InvalidSql("ACK requires UPTO OFFSET clause");
  }
  return Status::OK();
}

}  // namespace

Result<TopicStatement> ParseTopicStatement(const SqlStatement& stmt) {
  Cursor c(stmt);
  TopicStatement out;
  if (c.IsWord("CONSUME")) {
    c.Next();
    out.kind = Kind::kConsume;
    KALAM_RETURN_IF_ERROR(c.ExpectWord("FROM", "CONSUME"));
    KALAM_RETURN_IF_ERROR(ParseTopicName(c, &out, "CONSUME FROM"));
    KALAM_RETURN_IF_ERROR(ParseConsumerClauses(c, &out));
    return out;
  }
  if (c.IsWord("ACK")) {
    c.Next();
    out.kind = Kind::kAck;
    KALAM_RETURN_IF_ERROR(ParseTopicName(c, &out, "ACK"));
    KALAM_RETURN_IF_ERROR(ParseConsumerClauses(c, &out));
    return out;
  }
  const std::string verb = c.AtEnd() ? "" : ToUpperAscii(c.Next().value);
  KALAM_RETURN_IF_ERROR(c.ExpectWord("TOPIC", verb));
  KALAM_RETURN_IF_ERROR(ParseTopicName(c, &out, verb + " TOPIC"));
  if (verb == "CREATE") {
    out.kind = Kind::kCreate;
    if (c.IsWord("PARTITIONS")) {
      c.Next();
      auto v = c.AtEnd() ? Result<uint64_t>(Status::InvalidSql("")) : ParseUnsigned(c.Next());
      if (!v.ok()) return Status::InvalidSql("Partition count must be a positive integer");
      out.partitions = *v;
    }
  } else if (verb == "DROP") {
    out.kind = Kind::kDrop;
  } else if (verb == "CLEAR") {
    out.kind = Kind::kClear;
  } else if (verb == "ALTER") {
    KALAM_RETURN_IF_ERROR(ParseAlter(c, &out));
  } else {
    return Status::InvalidSql("Unsupported statement: " + verb + " TOPIC");
  }
  if (!c.AtEnd()) {
    return Status::InvalidSql("Unexpected " + c.Current() + " after " + verb + " TOPIC " +
                              (out.topic_ns.empty() ? "" : out.topic_ns + ".") + out.topic_name);
  }
  return out;
}

}  // namespace kalam::sql::parser
