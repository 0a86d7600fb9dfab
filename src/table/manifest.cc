// Manifest JSON encoding and strict decoding (Boost.JSON).
//
// The document:
//   {"format_version":1,"next_segment_id":3,"segments":[
//     {"file":"batch-1.parquet","id":1,"row_count":10,"tombstones":0,"min_seq":1,"max_seq":10,
//      "schema_version":1,"size_bytes":4096,"created_at_ms":1767225600000,
//      "columns":[{"column_id":1,"name":"id","min":{"int":1},"max":{"int":10},"null_count":0}]}],
//    "vector_indexes":[{"column_id":3,"index_version":2,"file":"vectors/emb.2.hnsw","seq":10,
//      "vectors":10,"size_bytes":2048,"sha256":"<64 hex>"}]}
// "vector_indexes" is present only when the scope has a vector index snapshot.
// A Value is JSON null, or an object with exactly one member naming its kind:
//   {"int":42}                      int64, as a JSON integer
//   {"double":"0.1"}                shortest round-trip text ("nan", "inf", "-inf", "-0" included);
//                                   a string because JSON numbers cannot hold NaN/Inf and a text
//                                   form parsed by std::from_chars round-trips bit for bit
//   {"text":"abc"}                  valid UTF-8 text
//   {"text_base64":"/w=="}          text that is not valid UTF-8 (kept exact; JSON cannot hold it)
//   {"bytes":"aGk="}                a Blob, standard base64 with padding
// Decoding is strict: unknown members, wrong types, out-of-range numbers and inconsistent
// segments are kCorruption naming the field, so a damaged manifest is never half-trusted.
#include "table/manifest.h"

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <set>
#include <string>
#include <system_error>

#include <boost/json.hpp>

#include "filestore/path_template.h"
#include "common/utf8.h"

namespace kalam::table {
namespace json = boost::json;
namespace {

constexpr int kFormatVersion = 1;

// ---- base64 (RFC 4648, standard alphabet, padded) ----

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) |
                 uint8_t(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

int B64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict: length a multiple of 4, padding only at the end, unused bits zero (so every byte
// string has exactly one accepted encoding).
bool Base64Decode(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() % 4 != 0) return false;
  out->reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    bool last = i + 4 == in.size();
    size_t pad = 0;
    if (last) {
      if (in[i + 3] == '=') pad = in[i + 2] == '=' ? 2 : 1;
    }
    int d[4] = {0, 0, 0, 0};
    for (size_t k = 0; k < 4 - pad; ++k) {
      d[k] = B64Digit(in[i + k]);
      if (d[k] < 0) return false;
    }
    uint32_t v = (uint32_t(d[0]) << 18) | (uint32_t(d[1]) << 12) | (uint32_t(d[2]) << 6) | d[3];
    out->push_back(char(v >> 16));
    if (pad == 2) {
      if (v & 0xffff) return false;
      break;
    }
    out->push_back(char((v >> 8) & 0xff));
    if (pad == 1) {
      if (v & 0xff) return false;
      break;
    }
    out->push_back(char(v & 0xff));
  }
  return true;
}

// ---- encoding ----

std::string DoubleText(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

json::value EncodeValue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return nullptr;
    case Value::Kind::kInt:
      return json::object{{"int", v.as_int()}};
    case Value::Kind::kDouble:
      return json::object{{"double", DoubleText(v.as_double())}};
    case Value::Kind::kText:
      if (IsValidUtf8(v.as_text())) return json::object{{"text", v.as_text()}};
      return json::object{{"text_base64", Base64Encode(v.as_text())}};
    case Value::Kind::kBlob:
      return json::object{{"bytes", Base64Encode(v.as_bytes())}};
  }
  return nullptr;
}

// ---- decoding ----

Status Corrupt(const std::string& field, std::string_view problem) {
  return Status::Corruption("manifest field '" + field + "' " + std::string(problem));
}

std::string Join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

// Refuses members other than `allowed`.
Status CheckMembers(const json::object& obj, std::initializer_list<std::string_view> allowed,
                    const std::string& path) {
  for (const auto& kv : obj) {
    bool known = false;
    for (std::string_view a : allowed) known = known || kv.key() == a;
    if (!known) {
      return Corrupt(Join(path, kv.key()), "is not a field of a version-1 manifest");
    }
  }
  return Status::OK();
}

Result<const json::value*> Member(const json::object& obj, std::string_view name,
                                  const std::string& path) {
  const json::value* v = obj.if_contains(name);
  if (v == nullptr) return Corrupt(Join(path, name), "is missing");
  return v;
}

Result<int64_t> GetInt(const json::object& obj, std::string_view name, const std::string& path,
                       int64_t min = std::numeric_limits<int64_t>::min(),
                       int64_t max = std::numeric_limits<int64_t>::max()) {
  KALAM_ASSIGN_OR_RETURN(const json::value* v, Member(obj, name, path));
  int64_t n;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64()) {
    return Corrupt(Join(path, name), "is out of range");
  } else {
    return Corrupt(Join(path, name), "must be an integer");
  }
  if (n < min || n > max) {
    return Corrupt(Join(path, name), "is out of range (" + std::to_string(n) + ")");
  }
  return n;
}

Result<std::string> GetString(const json::object& obj, std::string_view name,
                              const std::string& path) {
  KALAM_ASSIGN_OR_RETURN(const json::value* v, Member(obj, name, path));
  if (!v->is_string()) return Corrupt(Join(path, name), "must be a string");
  return std::string(v->get_string());
}

Result<Value> DecodeValue(const json::value& v, const std::string& path) {
  if (v.is_null()) return Value::Null();
  if (!v.is_object()) return Corrupt(path, "must be null or an object naming the value's kind");
  const json::object& obj = v.get_object();
  if (obj.size() != 1) {
    return Corrupt(path, "must have exactly one member (int, double, text, text_base64, bytes)");
  }
  const auto& kv = *obj.begin();
  std::string field = Join(path, kv.key());
  const json::value& x = kv.value();
  if (kv.key() == "int") {
    if (!x.is_int64()) return Corrupt(field, "must be a 64-bit integer");
    return Value::Int(x.get_int64());
  }
  if (kv.key() == "double") {
    if (!x.is_string()) return Corrupt(field, "must be a string");
    std::string_view s = x.get_string();
    if (s == "nan") return Value::Double(std::numeric_limits<double>::quiet_NaN());
    if (s == "inf") return Value::Double(std::numeric_limits<double>::infinity());
    if (s == "-inf") return Value::Double(-std::numeric_limits<double>::infinity());
    double d = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), d);
    // from_chars also accepts "nan"/"inf" spellings handled above, and nothing with a leading
    // '+' or space; require it to consume everything and produce a finite number.
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(d)) {
      return Corrupt(field, "is not a number");
    }
    return Value::Double(d);
  }
  if (kv.key() == "text") {
    if (!x.is_string()) return Corrupt(field, "must be a string");
    return Value::Text(std::string(x.get_string()));
  }
  if (kv.key() == "text_base64" || kv.key() == "bytes") {
    if (!x.is_string()) return Corrupt(field, "must be a string");
    std::string raw;
    if (!Base64Decode(x.get_string(), &raw)) return Corrupt(field, "is not valid base64");
    if (kv.key() == "bytes") return Value::Bytes(std::move(raw));
    return Value::Text(std::move(raw));
  }
  return Corrupt(field, "is not a value kind (int, double, text, text_base64, bytes)");
}

Result<ColumnRange> DecodeColumn(const json::value& v, const std::string& path) {
  if (!v.is_object()) return Corrupt(path, "must be an object");
  const json::object& obj = v.get_object();
  KALAM_RETURN_IF_ERROR(
      CheckMembers(obj, {"column_id", "name", "min", "max", "null_count"}, path));
  ColumnRange c;
  KALAM_ASSIGN_OR_RETURN(int64_t id,
                         GetInt(obj, "column_id", path, 0, std::numeric_limits<uint32_t>::max()));
  c.column_id = static_cast<uint32_t>(id);
  KALAM_ASSIGN_OR_RETURN(c.name, GetString(obj, "name", path));
  if (c.name.empty()) return Corrupt(Join(path, "name"), "is empty");
  KALAM_ASSIGN_OR_RETURN(const json::value* min, Member(obj, "min", path));
  KALAM_ASSIGN_OR_RETURN(c.min, DecodeValue(*min, Join(path, "min")));
  KALAM_ASSIGN_OR_RETURN(const json::value* max, Member(obj, "max", path));
  KALAM_ASSIGN_OR_RETURN(c.max, DecodeValue(*max, Join(path, "max")));
  KALAM_ASSIGN_OR_RETURN(c.null_count, GetInt(obj, "null_count", path, 0));
  return c;
}

Result<SegmentEntry> DecodeSegment(const json::value& v, const std::string& path) {
  if (!v.is_object()) return Corrupt(path, "must be an object");
  const json::object& obj = v.get_object();
  KALAM_RETURN_IF_ERROR(CheckMembers(obj,
                                     {"file", "id", "row_count", "tombstones", "min_seq", "max_seq",
                                      "schema_version", "size_bytes", "created_at_ms", "columns"},
                                     path));
  SegmentEntry s;
  KALAM_ASSIGN_OR_RETURN(s.file, GetString(obj, "file", path));
  if (Status st = filestore::ValidateKey(s.file); !st.ok()) {
    return Corrupt(Join(path, "file"), "is not a safe relative key: " + st.message());
  }
  KALAM_ASSIGN_OR_RETURN(s.id, GetInt(obj, "id", path, 1));
  KALAM_ASSIGN_OR_RETURN(s.row_count, GetInt(obj, "row_count", path, 0));
  KALAM_ASSIGN_OR_RETURN(s.tombstones, GetInt(obj, "tombstones", path, 0, s.row_count));
  KALAM_ASSIGN_OR_RETURN(s.min_seq, GetInt(obj, "min_seq", path));
  KALAM_ASSIGN_OR_RETURN(s.max_seq, GetInt(obj, "max_seq", path));
  if (s.min_seq > s.max_seq) {
    return Corrupt(Join(path, "min_seq"), "is greater than max_seq");
  }
  KALAM_ASSIGN_OR_RETURN(int64_t schema_version,
                         GetInt(obj, "schema_version", path, 0,
                                std::numeric_limits<uint32_t>::max()));
  s.schema_version = static_cast<uint32_t>(schema_version);
  KALAM_ASSIGN_OR_RETURN(s.size_bytes, GetInt(obj, "size_bytes", path, 0));
  KALAM_ASSIGN_OR_RETURN(s.created_at_ms, GetInt(obj, "created_at_ms", path));
  KALAM_ASSIGN_OR_RETURN(const json::value* cols, Member(obj, "columns", path));
  if (!cols->is_array()) return Corrupt(Join(path, "columns"), "must be an array");
  std::set<uint32_t> seen_ids;
  const json::array& arr = cols->get_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string cpath = Join(path, "columns") + "[" + std::to_string(i) + "]";
    KALAM_ASSIGN_OR_RETURN(ColumnRange c, DecodeColumn(arr[i], cpath));
    if (!seen_ids.insert(c.column_id).second) {
      return Corrupt(cpath + ".column_id", "repeats column " + std::to_string(c.column_id));
    }
    s.columns.push_back(std::move(c));
  }
  return s;
}

Result<VectorIndexEntry> DecodeVectorIndex(const json::value& v, const std::string& path) {
  if (!v.is_object()) return Corrupt(path, "must be an object");
  const json::object& obj = v.get_object();
  KALAM_RETURN_IF_ERROR(CheckMembers(
      obj, {"column_id", "index_version", "file", "seq", "vectors", "size_bytes", "sha256"}, path));
  VectorIndexEntry e;
  constexpr int64_t kMaxU32 = std::numeric_limits<uint32_t>::max();
  KALAM_ASSIGN_OR_RETURN(int64_t column_id, GetInt(obj, "column_id", path, 0, kMaxU32));
  e.column_id = static_cast<uint32_t>(column_id);
  KALAM_ASSIGN_OR_RETURN(int64_t version, GetInt(obj, "index_version", path, 0, kMaxU32));
  e.index_version = static_cast<uint32_t>(version);
  KALAM_ASSIGN_OR_RETURN(e.file, GetString(obj, "file", path));
  if (Status st = filestore::ValidateKey(e.file); !st.ok()) {
    return Corrupt(Join(path, "file"), "is not a safe relative key: " + st.message());
  }
  KALAM_ASSIGN_OR_RETURN(e.seq, GetInt(obj, "seq", path, 0));
  KALAM_ASSIGN_OR_RETURN(e.vectors, GetInt(obj, "vectors", path, 0));
  KALAM_ASSIGN_OR_RETURN(e.size_bytes, GetInt(obj, "size_bytes", path, 0));
  KALAM_ASSIGN_OR_RETURN(e.sha256, GetString(obj, "sha256", path));
  if (e.sha256.size() != 64 ||
      e.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Corrupt(Join(path, "sha256"), "is not a lower-case hex SHA-256");
  }
  return e;
}

}  // namespace

std::string EncodeManifest(const Manifest& manifest) {
  json::array segments;
  segments.reserve(manifest.segments.size());
  for (const SegmentEntry& s : manifest.segments) {
    json::array columns;
    columns.reserve(s.columns.size());
    for (const ColumnRange& c : s.columns) {
      columns.push_back(json::object{{"column_id", c.column_id},
                                     {"name", c.name},
                                     {"min", EncodeValue(c.min)},
                                     {"max", EncodeValue(c.max)},
                                     {"null_count", c.null_count}});
    }
    segments.push_back(json::object{{"file", s.file},
                                    {"id", s.id},
                                    {"row_count", s.row_count},
                                    {"tombstones", s.tombstones},
                                    {"min_seq", s.min_seq},
                                    {"max_seq", s.max_seq},
                                    {"schema_version", s.schema_version},
                                    {"size_bytes", s.size_bytes},
                                    {"created_at_ms", s.created_at_ms},
                                    {"columns", std::move(columns)}});
  }
  json::object root{{"format_version", manifest.format_version},
                    {"next_segment_id", manifest.next_segment_id},
                    {"segments", std::move(segments)}};
  // Written only when there is one, so manifests of tables without a vector index are unchanged.
  if (!manifest.vector_indexes.empty()) {
    json::array indexes;
    for (const VectorIndexEntry& e : manifest.vector_indexes) {
      indexes.push_back(json::object{{"column_id", e.column_id},
                                     {"index_version", e.index_version},
                                     {"file", e.file},
                                     {"seq", e.seq},
                                     {"vectors", e.vectors},
                                     {"size_bytes", e.size_bytes},
                                     {"sha256", e.sha256}});
    }
    root["vector_indexes"] = std::move(indexes);
  }
  return json::serialize(root);
}

Result<Manifest> DecodeManifest(std::string_view text) {
  json::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) return Status::Corruption("manifest is not valid JSON: " + ec.message());
  if (!root.is_object()) return Status::Corruption("manifest is not a JSON object");
  const json::object& obj = root.get_object();
  KALAM_RETURN_IF_ERROR(CheckMembers(
      obj, {"format_version", "next_segment_id", "segments", "vector_indexes"}, ""));
  Manifest m;
  KALAM_ASSIGN_OR_RETURN(int64_t version, GetInt(obj, "format_version", ""));
  if (version != kFormatVersion) {
    return Corrupt("format_version", "is " + std::to_string(version) +
                                         "; this build reads version " +
                                         std::to_string(kFormatVersion) + " only");
  }
  m.format_version = kFormatVersion;
  KALAM_ASSIGN_OR_RETURN(m.next_segment_id, GetInt(obj, "next_segment_id", "", 1));
  KALAM_ASSIGN_OR_RETURN(const json::value* segs, Member(obj, "segments", ""));
  if (!segs->is_array()) return Corrupt("segments", "must be an array");
  const json::array& arr = segs->get_array();
  std::set<std::string> files;
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string path = "segments[" + std::to_string(i) + "]";
    KALAM_ASSIGN_OR_RETURN(SegmentEntry s, DecodeSegment(arr[i], path));
    if (!m.segments.empty() && s.id <= m.segments.back().id) {
      return Corrupt(path + ".id", "is not greater than the previous segment's id (" +
                                       std::to_string(m.segments.back().id) + ")");
    }
    if (s.id >= m.next_segment_id) {
      return Corrupt(path + ".id", "is not less than next_segment_id (" +
                                       std::to_string(m.next_segment_id) + ")");
    }
    if (!files.insert(s.file).second) {
      return Corrupt(path + ".file", "repeats '" + s.file + "'");
    }
    m.segments.push_back(std::move(s));
  }
  if (const json::value* vix = obj.if_contains("vector_indexes")) {
    if (!vix->is_array()) return Corrupt("vector_indexes", "must be an array");
    std::set<std::pair<uint32_t, uint32_t>> indexes;
    for (size_t i = 0; i < vix->get_array().size(); ++i) {
      std::string path = "vector_indexes[" + std::to_string(i) + "]";
      KALAM_ASSIGN_OR_RETURN(VectorIndexEntry e, DecodeVectorIndex(vix->get_array()[i], path));
      if (!indexes.insert({e.column_id, e.index_version}).second) {
        return Corrupt(path + ".column_id", "repeats the index of column " +
                                                std::to_string(e.column_id));
      }
      if (!files.insert(e.file).second) return Corrupt(path + ".file", "repeats '" + e.file + "'");
      m.vector_indexes.push_back(std::move(e));
    }
  }
  return m;
}

}  // namespace kalam::table
