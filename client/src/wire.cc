// JSON → client types and server errors → Status.
#include "wire.h"

#include <algorithm>
#include <cstdlib>

namespace kalam::client::wire {

namespace json = boost::json;

namespace {

TypeKind KindFromName(std::string_view n) {
  if (n == "Boolean") return TypeKind::kBoolean;
  if (n == "SmallInt") return TypeKind::kSmallInt;
  if (n == "Int") return TypeKind::kInt;
  if (n == "BigInt") return TypeKind::kBigInt;
  if (n == "Float") return TypeKind::kFloat;
  if (n == "Double") return TypeKind::kDouble;
  if (n == "Decimal") return TypeKind::kDecimal;
  if (n == "Text") return TypeKind::kText;
  if (n == "Bytes") return TypeKind::kBytes;
  if (n == "Json") return TypeKind::kJson;
  if (n == "Timestamp") return TypeKind::kTimestamp;
  if (n == "Date") return TypeKind::kDate;
  if (n == "DateTime") return TypeKind::kDateTime;
  if (n == "Time") return TypeKind::kTime;
  if (n == "Uuid") return TypeKind::kUuid;
  if (n == "File") return TypeKind::kFile;
  if (n == "Embedding") return TypeKind::kEmbedding;
  return TypeKind::kUnknown;
}

int64_t ToInt(const json::value& v, bool* ok) {
  *ok = true;
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.get_uint64());
  if (v.is_double()) return static_cast<int64_t>(v.get_double());
  if (v.is_string()) {
    const std::string s(v.get_string());
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0' && errno == 0) return i;
  }
  *ok = false;
  return 0;
}

}  // namespace

std::string StringField(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  return {};
}

DataType ParseDataType(const json::value& v) {
  DataType t;
  if (v.is_string()) {
    t.kind = KindFromName(v.get_string());
    if (t.kind == TypeKind::kUnknown) t.unknown_name = std::string(v.get_string());
    return t;
  }
  if (v.is_object() && v.get_object().size() == 1) {
    const auto& [key, inner] = *v.get_object().begin();
    t.kind = KindFromName(key);
    if (t.kind == TypeKind::kEmbedding) {
      bool ok;
      t.dimension = static_cast<int>(ToInt(inner, &ok));
      return t;
    }
    if (t.kind == TypeKind::kDecimal && inner.is_object()) {
      bool ok;
      if (auto* p = inner.get_object().if_contains("precision")) {
        t.precision = static_cast<int>(ToInt(*p, &ok));
      }
      if (auto* s = inner.get_object().if_contains("scale")) {
        t.scale = static_cast<int>(ToInt(*s, &ok));
      }
      return t;
    }
  }
  t.kind = TypeKind::kUnknown;
  t.unknown_name = json::serialize(v);
  return t;
}

std::vector<Column> ParseSchema(const json::value& v) {
  std::vector<std::pair<int64_t, Column>> indexed;
  if (!v.is_array()) return {};
  int64_t position = 0;
  for (const auto& item : v.get_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.get_object();
    Column c;
    c.name = StringField(o, "name");
    if (auto* dt = o.if_contains("data_type")) c.type = ParseDataType(*dt);
    if (auto* flags = o.if_contains("flags"); flags && flags->is_array()) {
      for (const auto& f : flags->get_array()) {
        if (!f.is_string()) continue;
        if (f.get_string() == "pk") c.primary_key = true;
        if (f.get_string() == "nn") c.not_null = true;
        if (f.get_string() == "uq") c.unique = true;
      }
    }
    int64_t index = position;
    if (auto* idx = o.if_contains("index")) {
      bool ok;
      const int64_t i = ToInt(*idx, &ok);
      if (ok) index = i;
    }
    indexed.emplace_back(index, std::move(c));
    ++position;
  }
  std::stable_sort(indexed.begin(), indexed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Column> out;
  out.reserve(indexed.size());
  for (auto& [i, c] : indexed) out.push_back(std::move(c));
  return out;
}

Value DecodeValue(const json::value& v, const DataType& type) {
  if (v.is_null()) return Value::Null(type.kind);
  auto fallback = [&] {
    if (v.is_string()) return Value::String(std::string(v.get_string()), type.kind);
    if (v.is_bool()) return Value::Bool(v.get_bool());
    if (v.is_int64() || v.is_uint64()) {
      bool ok;
      return Value::Int(ToInt(v, &ok), type.kind == TypeKind::kUnknown ? TypeKind::kBigInt
                                                                         : type.kind);
    }
    if (v.is_double()) return Value::Double(v.get_double(), TypeKind::kDouble);
    return Value::String(json::serialize(v), TypeKind::kJson);
  };
  switch (type.kind) {
    case TypeKind::kBoolean:
      if (v.is_bool()) return Value::Bool(v.get_bool());
      return fallback();
    case TypeKind::kSmallInt:
    case TypeKind::kInt:
    case TypeKind::kBigInt:
    case TypeKind::kTimestamp:
    case TypeKind::kDateTime:
    case TypeKind::kDate:
    case TypeKind::kTime: {
      bool ok;
      const int64_t i = ToInt(v, &ok);
      if (ok && !v.is_double()) return Value::Int(i, type.kind);
      return fallback();
    }
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      if (v.is_double()) return Value::Double(v.get_double(), type.kind);
      if (v.is_int64()) return Value::Double(static_cast<double>(v.get_int64()), type.kind);
      if (v.is_uint64()) return Value::Double(static_cast<double>(v.get_uint64()), type.kind);
      return fallback();
    case TypeKind::kBytes:
      if (v.is_array()) {
        std::vector<uint8_t> bytes;
        for (const auto& b : v.get_array()) {
          bool ok;
          bytes.push_back(static_cast<uint8_t>(ToInt(b, &ok)));
        }
        return Value::Bytes(std::move(bytes));
      }
      return fallback();
    case TypeKind::kEmbedding:
      if (v.is_array()) {
        std::vector<double> elems;
        for (const auto& e : v.get_array()) {
          elems.push_back(e.is_double() ? e.get_double()
                          : e.is_int64() ? static_cast<double>(e.get_int64())
                                         : 0.0);
        }
        return Value::Vector(std::move(elems));
      }
      return fallback();
    case TypeKind::kDecimal:
      if (v.is_string()) return Value::String(std::string(v.get_string()), TypeKind::kDecimal);
      if (v.is_number()) return Value::String(json::serialize(v), TypeKind::kDecimal);
      return fallback();
    case TypeKind::kText:
    case TypeKind::kJson:
    case TypeKind::kUuid:
    case TypeKind::kFile:
      if (v.is_string()) return Value::String(std::string(v.get_string()), type.kind);
      return fallback();
    case TypeKind::kUnknown:
      return fallback();
  }
  return fallback();
}

LiveRow DecodeLiveRow(const json::object& row, const std::vector<Column>& schema) {
  LiveRow out;
  static const DataType kBigInt = [] {
    DataType t;
    t.kind = TypeKind::kBigInt;
    return t;
  }();
  static const DataType kBoolean = [] {
    DataType t;
    t.kind = TypeKind::kBoolean;
    return t;
  }();
  for (const auto& col : schema) {
    if (auto* v = row.if_contains(col.name)) out.Add(col.name, DecodeValue(*v, col.type));
  }
  for (const auto& [key, v] : row) {
    const std::string name(key);
    if (std::any_of(schema.begin(), schema.end(),
                    [&](const Column& c) { return c.name == name; })) {
      continue;
    }
    const DataType& t = name == "_seq"       ? kBigInt
                        : name == "_deleted" ? kBoolean
                                             : DataType{};
    out.Add(name, DecodeValue(v, t));
  }
  return out;
}

StatusCode CodeForServerError(std::string_view code, int http_status) {
  if (code == "TABLE_NOT_FOUND" || code == "NOT_FOUND") return StatusCode::kNotFound;
  if (code == "PERMISSION_DENIED" || code == "INSUFFICIENT_PERMISSIONS" || code == "forbidden" ||
      code == "UNAUTHORIZED") {
    return StatusCode::kPermissionDenied;
  }
  if (code == "MISSING_AUTHORIZATION" || code == "TOKEN_EXPIRED" ||
      code == "INVALID_CREDENTIALS" || code == "AUTHENTICATION_ERROR" ||
      code == "SETUP_REQUIRED" || code == "ACCOUNT_LOCKED" || code == "unauthorized" ||
      code == "account_locked" || code == "setup_required" || code == "AUTH_REQUIRED") {
    return StatusCode::kUnauthenticated;
  }
  if (code == "RATE_LIMIT_EXCEEDED" || code == "rate_limited") return StatusCode::kRateLimited;
  if (code == "INTERNAL_ERROR") return StatusCode::kServerError;
  if (http_status == 401 || http_status == 428) return StatusCode::kUnauthenticated;
  if (http_status == 403) return StatusCode::kPermissionDenied;
  if (http_status == 404) return StatusCode::kNotFound;
  if (http_status == 429) return StatusCode::kRateLimited;
  if (http_status >= 500) return StatusCode::kServerError;
  if (http_status == 400 || http_status == 0) return StatusCode::kSqlError;
  return StatusCode::kProtocolError;
}

Status ErrorFromResponse(int http_status, std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    // SQL shape: {"status":"error","error":{"code","message","details"}}
    if (auto* e = o.if_contains("error"); e && e->is_object()) {
      const auto& eo = e->get_object();
      const std::string code = StringField(eo, "code");
      return Status(CodeForServerError(code, http_status), StringField(eo, "message"), code,
                    http_status, StringField(eo, "details"));
    }
    // Auth and guard shape: {"error":"unauthorized","message":"…"}
    if (auto* e = o.if_contains("error"); e && e->is_string()) {
      const std::string code(e->get_string());
      std::string message = StringField(o, "message");
      if (message.empty()) message = code;
      return Status(CodeForServerError(code, http_status), message, code, http_status);
    }
  }
  std::string text(body.substr(0, 200));
  if (text.empty()) text = "HTTP " + std::to_string(http_status);
  return Status(CodeForServerError("", http_status),
                "Server answered HTTP " + std::to_string(http_status) + ": " + text, "",
                http_status);
}

Result<SqlResponse> ParseSqlResponse(int http_status, std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    if (http_status != 200) return ErrorFromResponse(http_status, body);
    return Status(StatusCode::kProtocolError,
                  "The server's answer is not JSON: " + std::string(body.substr(0, 200)), "",
                  http_status);
  }
  const auto& o = v.get_object();
  if (http_status != 200 || StringField(o, "status") != "success") {
    Status st = ErrorFromResponse(http_status, body);
    if (st.ok() || st.message().empty()) {
      return Status(StatusCode::kProtocolError, "Unexpected answer: " + std::string(body.substr(0, 200)),
                    "", http_status);
    }
    return st;
  }
  SqlResponse out;
  if (auto* took = o.if_contains("took"); took && took->is_number()) {
    out.took_ms = took->to_number<double>();
  }
  if (auto* results = o.if_contains("results"); results && results->is_array()) {
    for (const auto& r : results->get_array()) {
      if (!r.is_object()) continue;
      const auto& ro = r.get_object();
      QueryResult q;
      if (auto* schema = ro.if_contains("schema")) q.columns = ParseSchema(*schema);
      if (auto* rows = ro.if_contains("rows"); rows && rows->is_array()) {
        q.rows.reserve(rows->get_array().size());
        for (const auto& row : rows->get_array()) {
          if (!row.is_array()) continue;
          std::vector<Value> cells;
          const auto& arr = row.get_array();
          cells.reserve(arr.size());
          for (size_t c = 0; c < arr.size(); ++c) {
            static const DataType kUnknown{};
            cells.push_back(DecodeValue(arr[c], c < q.columns.size() ? q.columns[c].type : kUnknown));
          }
          q.rows.push_back(std::move(cells));
        }
      }
      q.row_count = static_cast<int64_t>(q.rows.size());
      if (auto* rc = ro.if_contains("row_count")) {
        bool ok;
        const int64_t n = ToInt(*rc, &ok);
        if (ok) q.row_count = n;
      }
      if (auto* m = ro.if_contains("message"); m && m->is_string()) {
        q.message = std::string(m->get_string());
      }
      q.as_user = StringField(ro, "as_user");
      if (auto* t = ro.if_contains("truncated"); t && t->is_bool()) q.truncated = t->get_bool();
      out.results.push_back(std::move(q));
    }
  }
  return out;
}

}  // namespace kalam::client::wire
