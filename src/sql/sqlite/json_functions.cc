// The JSON functions KalamDB offers beyond SQLite's own (json_extract, ->, ->>, json_each, …),
// with the names, arguments and NULL semantics of the original server's SQL dialect:
//
//   json_contains(json, key…)    true when the path exists (its value may be JSON null), false
//                                when it does not or the text is not JSON
//   json_get_str(json, key…)     the string at the path, else NULL
//   json_get_int(json, key…)     the integer at the path (a JSON number without fraction or
//                                exponent that fits in 64 bits), else NULL
//   json_get_float(json, key…)   the number at the path as REAL, else NULL
//   json_get_bool(json, key…)    the boolean at the path (1/0), else NULL
//   json_get_json(json, key…)    the JSON text of the value at the path, else NULL
//   json_as_text(json, key…)     a string unquoted, any other value as JSON text; NULL for JSON
//                                null or a missing path
//   json_length(json, key…)      the element count of the array or object at the path, else NULL
//   json_object_keys(json, key…) the keys of the object at the path as a JSON array text, in
//                                document order, else NULL
//   doc ? 'key'                  json_contains(doc, 'key'): the lexer makes a bare `?` before a
//                                string literal an operator, the rewriter writes it as MATCH, and
//                                SQLite calls match('key', doc)
//
// A key is a text (an object member) or an integer (an array index from 0; negative counts from
// the end). No key means the whole document. A NULL document or key gives NULL; a document that
// is not valid JSON gives NULL (false for json_contains).
#include <cstdint>
#include <string>

#include <boost/json.hpp>
#include <sqlite3.h>

#include "common/value.h"
#include "common/value_json.h"
#include "sql/sqlite/connection.h"

namespace kalam::sql {

namespace {

namespace json = boost::json;

enum class Lookup { kFound, kMissing, kNull };

// Resolves argv[1..argc) as a path into the document argv[0] (argc >= 1). kNull when the document or a key is
// SQL NULL; kMissing when the document is not JSON or the path does not exist.
Lookup Resolve(int argc, sqlite3_value** argv, json::value* doc, const json::value** at) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return Lookup::kNull;
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const int bytes = sqlite3_value_bytes(argv[0]);
  boost::system::error_code ec;
  *doc = json::parse(json::string_view(text ? text : "", static_cast<size_t>(bytes)), ec);
  if (ec) return Lookup::kMissing;
  const json::value* cur = doc;
  for (int i = 1; i < argc; ++i) {
    switch (sqlite3_value_type(argv[i])) {
      case SQLITE_NULL:
        return Lookup::kNull;
      case SQLITE_INTEGER: {
        const auto* arr = cur->if_array();
        if (!arr) return Lookup::kMissing;
        int64_t index = sqlite3_value_int64(argv[i]);
        const auto size = static_cast<int64_t>(arr->size());
        if (index < 0) index += size;
        if (index < 0 || index >= size) return Lookup::kMissing;
        cur = &(*arr)[static_cast<size_t>(index)];
        break;
      }
      default: {
        const auto* obj = cur->if_object();
        if (!obj) return Lookup::kMissing;
        const auto* key = reinterpret_cast<const char*>(sqlite3_value_text(argv[i]));
        const int key_bytes = sqlite3_value_bytes(argv[i]);
        cur = obj->if_contains(json::string_view(key ? key : "", static_cast<size_t>(key_bytes)));
        if (!cur) return Lookup::kMissing;
        break;
      }
    }
  }
  *at = cur;
  return Lookup::kFound;
}

// False (with an error result set) for a call without a document.
bool HasDocument(sqlite3_context* c, int argc) {
  if (argc >= 1) return true;
  sqlite3_result_error(c, "JSON functions take a JSON document, then optional path keys", -1);
  return false;
}

// Compact JSON text of `v`, numbers in their shortest round-trip form (20.5, not Boost's 2.05E1).
void AppendJson(const json::value& v, std::string* out) {
  switch (v.kind()) {
    case json::kind::null:
      *out += "null";
      return;
    case json::kind::bool_:
      *out += v.get_bool() ? "true" : "false";
      return;
    case json::kind::int64:
      *out += std::to_string(v.get_int64());
      return;
    case json::kind::uint64:
      *out += std::to_string(v.get_uint64());
      return;
    case json::kind::double_:
      // A parsed JSON number is finite, so encoding cannot fail.
      if (!AppendJsonValue(nullptr, Value::Double(v.get_double()), out).ok()) *out += "null";
      return;
    case json::kind::string:
      AppendJsonString(v.get_string(), out);
      return;
    case json::kind::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(e, out);
      }
      out->push_back(']');
      return;
    }
    case json::kind::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(kv.key(), out);
        out->push_back(':');
        AppendJson(kv.value(), out);
      }
      out->push_back('}');
      return;
    }
  }
}

std::string ToJson(const json::value& v) {
  std::string out;
  AppendJson(v, &out);
  return out;
}

void ResultText(sqlite3_context* c, const std::string& text) {
  sqlite3_result_text64(c, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

// Calls `fn(c, value)` for a found path; NULL otherwise.
template <class Fn>
void WithValue(sqlite3_context* c, int argc, sqlite3_value** argv, Fn fn) {
  if (!HasDocument(c, argc)) return;
  json::value doc;
  const json::value* at = nullptr;
  if (Resolve(argc, argv, &doc, &at) != Lookup::kFound) {
    sqlite3_result_null(c);
    return;
  }
  fn(c, *at);
}

void FnContains(sqlite3_context* c, int argc, sqlite3_value** argv) {
  if (!HasDocument(c, argc)) return;
  json::value doc;
  const json::value* at = nullptr;
  switch (Resolve(argc, argv, &doc, &at)) {
    case Lookup::kNull:
      sqlite3_result_null(c);
      return;
    case Lookup::kMissing:
      sqlite3_result_int(c, 0);
      return;
    case Lookup::kFound:
      sqlite3_result_int(c, 1);
      return;
  }
}

// match(key, doc): SQLite's function behind `doc MATCH key`, which the rewriter writes for the
// `doc ? 'key'` key test: json_contains(doc, key).
void FnMatch(sqlite3_context* c, int argc, sqlite3_value** argv) {
  sqlite3_value* args[2] = {argv[1], argv[0]};
  FnContains(c, argc, args);
}

void FnGetStr(sqlite3_context* c, int argc, sqlite3_value** argv) {
  WithValue(c, argc, argv, [](sqlite3_context* c, const json::value& v) {
    if (const auto* s = v.if_string()) {
      sqlite3_result_text64(c, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else {
      sqlite3_result_null(c);
    }
  });
}

void FnGetInt(sqlite3_context* c, int argc, sqlite3_value** argv) {
  WithValue(c, argc, argv, [](sqlite3_context* c, const json::value& v) {
    if (const auto* i = v.if_int64()) {
      sqlite3_result_int64(c, *i);
    } else if (const auto* u = v.if_uint64(); u && *u <= static_cast<uint64_t>(INT64_MAX)) {
      sqlite3_result_int64(c, static_cast<int64_t>(*u));
    } else {
      sqlite3_result_null(c);
    }
  });
}

void FnGetFloat(sqlite3_context* c, int argc, sqlite3_value** argv) {
  WithValue(c, argc, argv, [](sqlite3_context* c, const json::value& v) {
    if (v.is_number()) {
      sqlite3_result_double(c, v.to_number<double>());
    } else {
      sqlite3_result_null(c);
    }
  });
}

void FnGetBool(sqlite3_context* c, int argc, sqlite3_value** argv) {
  WithValue(c, argc, argv, [](sqlite3_context* c, const json::value& v) {
    if (const auto* b = v.if_bool()) {
      sqlite3_result_int(c, *b ? 1 : 0);
    } else {
      sqlite3_result_null(c);
    }
  });
}

void FnGetJson(sqlite3_context* c, int argc, sqlite3_value** argv) {
  WithValue(c, argc, argv,
            [](sqlite3_context* c, const json::value& v) { ResultText(c, ToJson(v)); });
}

void FnAsText(sqlite3_context* c, int argc, sqlite3_value** argv) {
  WithValue(c, argc, argv, [](sqlite3_context* c, const json::value& v) {
    if (v.is_null()) {
      sqlite3_result_null(c);
    } else if (const auto* s = v.if_string()) {
      sqlite3_result_text64(c, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    } else {
      ResultText(c, ToJson(v));
    }
  });
}

void FnLength(sqlite3_context* c, int argc, sqlite3_value** argv) {
  WithValue(c, argc, argv, [](sqlite3_context* c, const json::value& v) {
    if (const auto* a = v.if_array()) {
      sqlite3_result_int64(c, static_cast<int64_t>(a->size()));
    } else if (const auto* o = v.if_object()) {
      sqlite3_result_int64(c, static_cast<int64_t>(o->size()));
    } else {
      sqlite3_result_null(c);
    }
  });
}

void FnObjectKeys(sqlite3_context* c, int argc, sqlite3_value** argv) {
  WithValue(c, argc, argv, [](sqlite3_context* c, const json::value& v) {
    const auto* o = v.if_object();
    if (!o) {
      sqlite3_result_null(c);
      return;
    }
    json::array keys;
    keys.reserve(o->size());
    for (const auto& kv : *o) keys.emplace_back(kv.key());
    ResultText(c, ToJson(keys));
  });
}

}  // namespace

int RegisterJsonFunctions(sqlite3* db) {
  struct Fn {
    const char* name;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  const Fn fns[] = {
      {"json_contains", FnContains},     {"json_get_str", FnGetStr},
      {"json_get_int", FnGetInt},        {"json_get_float", FnGetFloat},
      {"json_get_bool", FnGetBool},      {"json_get_json", FnGetJson},
      {"json_as_text", FnAsText},        {"json_length", FnLength},
      {"json_object_keys", FnObjectKeys},
  };
  const int rc = sqlite3_create_function_v2(
      db, "match", 2, SQLITE_UTF8 | SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC, nullptr, FnMatch,
      nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return rc;
  for (const auto& f : fns) {
    // Variadic: the document, then any number of path keys (a call without a document fails).
    const int rc = sqlite3_create_function_v2(
        db, f.name, -1, SQLITE_UTF8 | SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC, nullptr, f.fn,
        nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

}  // namespace kalam::sql
