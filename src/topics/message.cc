// Message encoding and payload building.
#include "topics/message.h"

#include <boost/json.hpp>

#include "common/value_codec.h"
#include "common/value_json.h"

namespace kalam::topics {

using sql::parser::PayloadMode;
using sql::parser::TopicOp;

namespace {

constexpr uint8_t kFormat = 1;
constexpr uint8_t kHasKey = 1;
constexpr uint8_t kHasUser = 2;

void AppendBytes(std::string_view s, std::string* out) {
  PutVarint64(out, s.size());
  out->append(s);
}

bool ReadVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool ReadBytes(std::string_view* in, std::string* out) {
  uint64_t n = 0;
  if (!ReadVarint(in, &n) || n > in->size()) return false;
  *out = std::string(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

bool HasPk(const catalog::TableDef& t) {
  for (const auto& c : t.columns) {
    if (c.primary_key) return true;
  }
  return false;
}

// `"name":<value>` with the column's PROTOCOL §5 encoding (null if it cannot be encoded).
void AppendField(const catalog::ColumnDef& c, const Value& v, std::string* out) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(c.name, out);
  out->push_back(':');
  std::string value;
  if (AppendJsonValue(&c.type, v, &value).ok()) *out += value;
  else *out += "null";
}

const Value& At(const std::vector<Value>& values, size_t i) {
  static const Value kNull;
  return i < values.size() ? values[i] : kNull;
}

void AppendSystemFields(const table::ChangeRecord& rec, bool with_deleted, std::string* out) {
  *out += ",\"_seq\":\"" + std::to_string(rec.seq) + "\"";
  if (with_deleted && rec.table->type != catalog::TableType::kStream) {
    *out += rec.kind == table::ChangeKind::kDelete ? ",\"_deleted\":true" : ",\"_deleted\":false";
  }
  std::string table = rec.table->namespace_id + ":" + rec.table->table_name;
  *out += ",\"_table\":";
  AppendJsonString(table, out);
}

}  // namespace

std::string Message::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kFormat));
  out.push_back(static_cast<char>((key ? kHasKey : 0) | (user_id ? kHasUser : 0)));
  out.push_back(static_cast<char>(op));
  AppendOrderedU64(static_cast<uint64_t>(timestamp_ms), &out);
  AppendOrderedU64(static_cast<uint64_t>(seq), &out);
  if (key) AppendBytes(*key, &out);
  if (user_id) AppendBytes(*user_id, &out);
  out += payload;
  return out;
}

Result<Message> Message::Decode(std::string_view in) {
  Message m;
  if (in.size() < 19 || static_cast<uint8_t>(in[0]) != kFormat ||
      static_cast<uint8_t>(in[2]) > 2) {
    return Status::Corruption("Bad topic message");
  }
  const uint8_t flags = static_cast<uint8_t>(in[1]);
  m.op = static_cast<TopicOp>(in[2]);
  in.remove_prefix(3);
  uint64_t ts = 0, seq = 0;
  if (!ReadOrderedU64(&in, &ts) || !ReadOrderedU64(&in, &seq)) {
    return Status::Corruption("Bad topic message");
  }
  m.timestamp_ms = static_cast<int64_t>(ts);
  m.seq = static_cast<int64_t>(seq);
  if (flags & kHasKey) {
    std::string k;
    if (!ReadBytes(&in, &k)) return Status::Corruption("Bad topic message key");
    m.key = std::move(k);
  }
  if (flags & kHasUser) {
    std::string u;
    if (!ReadBytes(&in, &u)) return Status::Corruption("Bad topic message user");
    m.user_id = std::move(u);
  }
  m.payload = std::string(in);
  return m;
}

std::optional<std::string> MessageKeyText(const table::ChangeRecord& rec) {
  const catalog::TableDef& t = *rec.table;
  if (!HasPk(t)) return std::nullopt;
  const size_t pk = t.pk_index();
  const Value& v = At(rec.values, pk);
  if (v.is_null()) return std::nullopt;
  std::string text;
  if (!AppendJsonValue(&t.columns[pk].type, v, &text).ok()) return std::nullopt;
  if (!text.empty() && text.front() == '"') {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(text, ec);
    if (!ec && parsed.is_string()) return std::string(parsed.as_string());
  }
  return text;
}

std::string BuildPayload(const table::ChangeRecord& rec, PayloadMode mode) {
  const catalog::TableDef& t = *rec.table;
  std::string out = "{";
  const bool has_pk = HasPk(t);
  const size_t pk = has_pk ? t.pk_index() : t.columns.size();
  auto all = [&](const std::vector<Value>& values, std::string* o) {
    for (size_t i = 0; i < t.columns.size(); ++i) AppendField(t.columns[i], At(values, i), o);
  };
  switch (mode) {
    case PayloadMode::kFull:
      all(rec.values, &out);
      AppendSystemFields(rec, true, &out);
      break;
    case PayloadMode::kKey:
      if (has_pk) AppendField(t.columns[pk], At(rec.values, pk), &out);
      if (out.size() == 1) {
        // The `,` of the first system field must not follow `{`.
        std::string rest;
        rest.push_back('{');
        AppendSystemFields(rec, false, &rest);
        return "{" + rest.substr(2) + "}";
      }
      AppendSystemFields(rec, false, &out);
      break;
    case PayloadMode::kDiff: {
      if (rec.kind == table::ChangeKind::kInsert) {
        all(rec.values, &out);
        AppendSystemFields(rec, false, &out);
        break;
      }
      if (has_pk) AppendField(t.columns[pk], At(rec.values, pk), &out);
      std::string old = "{";
      if (rec.kind == table::ChangeKind::kUpdate) {
        for (size_t i = 0; i < t.columns.size(); ++i) {
          if (i == pk || At(rec.values, i) == At(rec.old_values, i)) continue;
          AppendField(t.columns[i], At(rec.values, i), &out);
          AppendField(t.columns[i], At(rec.old_values, i), &old);
        }
      } else {
        all(rec.values, &old);
      }
      old += "}";
      if (out.size() == 1) out += "\"_old\":" + old;
      else out += ",\"_old\":" + old;
      AppendSystemFields(rec, false, &out);
      break;
    }
  }
  out += "}";
  return out;
}

uint32_t PartitionFor(const std::optional<std::string>& key, int64_t seq, uint32_t partitions) {
  const std::string text = key ? *key : std::to_string(seq);
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<uint32_t>(h % (partitions == 0 ? 1 : partitions));
}

}  // namespace kalam::topics
