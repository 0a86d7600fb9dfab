// parquet_tool: drives the Parquet codec from JSON for the interop tests
// (tests/e2e/test_parquet_interop.py).
//
//   parquet_tool write <out.parquet> <spec.json>   writes a file described by a JSON spec
//   parquet_tool read <in.parquet>                 prints schema, statistics and values as JSON
//
// Spec: {"options": {"codec": "ZSTD", "dictionary": true, "data_page_bytes": N,
//                    "dictionary_page_limit_bytes": N, "statistics": true, "zstd_level": 1},
//        "key_value_metadata": [["key", "value"], ...],
//        "columns": [{"name": "a", "physical": "INT32", "logical": "INT", "nullable": true,
//                     "type_length": 0, "bit_width": 16, "signed": true, "precision": 0,
//                     "scale": 0, "unit": "MICROS", "utc_adjusted": false}, ...],
//        "row_groups": [[[column 0 values], [column 1 values], ...], ...]}
// Values: null, true/false, integers, numbers (or "NaN", "Infinity", "-Infinity", or any strtod
// text such as a hex float "0x1.8p+1", which is exact where JSON parsing may round), and byte
// arrays as lower-case hex strings. `read` prints values and statistics the same way.
#include <boost/json.hpp>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "parquet/parquet.h"

namespace json = boost::json;
using namespace kalam;
using namespace kalam::parquet;

namespace {

struct NameMap {
  const char* name;
  int value;
};

constexpr NameMap kPhysical[] = {{"BOOLEAN", 0}, {"INT32", 1},      {"INT64", 2},
                                 {"INT96", 3},   {"FLOAT", 4},      {"DOUBLE", 5},
                                 {"BYTE_ARRAY", 6}, {"FIXED_LEN_BYTE_ARRAY", 7}};
constexpr NameMap kLogical[] = {{"NONE", 0}, {"STRING", 1},    {"JSON", 2},
                                {"INT", 3},  {"DECIMAL", 4},   {"DATE", 5},
                                {"TIME", 6}, {"TIMESTAMP", 7}, {"UUID", 8}};
constexpr NameMap kUnits[] = {{"MILLIS", 0}, {"MICROS", 1}, {"NANOS", 2}};
constexpr NameMap kCodecs[] = {{"UNCOMPRESSED", 0}, {"SNAPPY", 1}, {"GZIP", 2}, {"ZSTD", 3}};

template <size_t N>
int Lookup(const NameMap (&table)[N], std::string_view name) {
  for (const NameMap& m : table) {
    if (name == m.name) return m.value;
  }
  throw std::runtime_error("unknown name '" + std::string(name) + "'");
}

template <size_t N>
const char* NameOf(const NameMap (&table)[N], int value) {
  for (const NameMap& m : table) {
    if (value == m.value) return m.name;
  }
  return "?";
}

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::runtime_error("odd-length hex string");
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("bad hex digit");
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(digit(hex[2 * i]) * 16 + digit(hex[2 * i + 1]));
  }
  return out;
}

json::value FloatJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

double JsonFloat(const json::value& v) {
  if (v.is_string()) {
    std::string_view s = v.as_string();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return INFINITY;
    if (s == "-Infinity") return -INFINITY;
    // Any other string is a number for strtod, which rounds correctly (and reads hex floats,
    // "0x1.8p+1", the exact form the tests send).
    std::string text(s);
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) {
      throw std::runtime_error("bad float string");
    }
    return d;
  }
  return v.to_number<double>();
}

template <typename T>
T Get(const json::object& o, std::string_view key, T fallback) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return fallback;
  if constexpr (std::is_same_v<T, bool>) {
    return it->value().as_bool();
  } else if constexpr (std::is_same_v<T, std::string>) {
    return std::string(it->value().as_string());
  } else {
    return it->value().to_number<T>();
  }
}

ColumnSchema SchemaFromJson(const json::object& o) {
  ColumnSchema c;
  c.name = Get<std::string>(o, "name", "");
  c.physical = static_cast<PhysicalType>(Lookup(kPhysical, Get<std::string>(o, "physical", "")));
  c.logical = static_cast<LogicalKind>(Lookup(kLogical, Get<std::string>(o, "logical", "NONE")));
  c.nullable = Get<bool>(o, "nullable", true);
  c.type_length = Get<int>(o, "type_length", 0);
  c.int_bit_width = Get<int>(o, "bit_width", 0);
  c.int_signed = Get<bool>(o, "signed", true);
  c.precision = Get<int>(o, "precision", 0);
  c.scale = Get<int>(o, "scale", 0);
  c.unit = static_cast<TimeUnit>(Lookup(kUnits, Get<std::string>(o, "unit", "MICROS")));
  c.utc_adjusted = Get<bool>(o, "utc_adjusted", false);
  return c;
}

json::object SchemaToJson(const ColumnSchema& c) {
  json::object o;
  o["name"] = c.name;
  o["physical"] = NameOf(kPhysical, static_cast<int>(c.physical));
  o["logical"] = NameOf(kLogical, static_cast<int>(c.logical));
  o["nullable"] = c.nullable;
  o["type_length"] = c.type_length;
  o["bit_width"] = c.int_bit_width;
  o["signed"] = c.int_signed;
  o["precision"] = c.precision;
  o["scale"] = c.scale;
  o["unit"] = NameOf(kUnits, static_cast<int>(c.unit));
  o["utc_adjusted"] = c.utc_adjusted;
  return o;
}

ColumnVector VectorFromJson(const ColumnSchema& c, const json::array& values) {
  ColumnVector v;
  bool any_null = false;
  for (const json::value& x : values) any_null |= x.is_null();
  for (const json::value& x : values) {
    bool null = x.is_null();
    if (any_null) v.present.push_back(null ? 0 : 1);
    switch (c.physical) {
      case PhysicalType::kBoolean:
        v.b.push_back(null ? 0 : x.as_bool());
        break;
      case PhysicalType::kInt32:
        v.i32.push_back(null ? 0 : x.to_number<int32_t>());
        break;
      case PhysicalType::kInt64:
      case PhysicalType::kInt96:
        v.i64.push_back(null ? 0 : x.to_number<int64_t>());
        break;
      case PhysicalType::kFloat:
        v.f32.push_back(null ? 0.0f : static_cast<float>(JsonFloat(x)));
        break;
      case PhysicalType::kDouble:
        v.f64.push_back(null ? 0.0 : JsonFloat(x));
        break;
      case PhysicalType::kByteArray:
      case PhysicalType::kFixedLenByteArray:
        v.bytes.push_back(null ? std::string() : Unhex(x.as_string()));
        break;
    }
  }
  return v;
}

json::value StatJson(const StatValue& s) {
  if (std::holds_alternative<int64_t>(s)) return std::get<int64_t>(s);
  if (std::holds_alternative<double>(s)) return FloatJson(std::get<double>(s));
  if (std::holds_alternative<std::string>(s)) return json::value(Hex(std::get<std::string>(s)));
  return nullptr;
}

json::array VectorToJson(const ColumnSchema& c, const ColumnVector& v, size_t rows) {
  json::array out;
  out.reserve(rows);
  for (size_t i = 0; i < rows; ++i) {
    if (v.is_null(i)) {
      out.emplace_back(nullptr);
      continue;
    }
    switch (c.physical) {
      case PhysicalType::kBoolean:
        out.emplace_back(v.b[i] != 0);
        break;
      case PhysicalType::kInt32:
        out.emplace_back(v.i32[i]);
        break;
      case PhysicalType::kInt64:
      case PhysicalType::kInt96:
        out.emplace_back(v.i64[i]);
        break;
      case PhysicalType::kFloat:
        out.push_back(FloatJson(v.f32[i]));
        break;
      case PhysicalType::kDouble:
        out.push_back(FloatJson(v.f64[i]));
        break;
      case PhysicalType::kByteArray:
      case PhysicalType::kFixedLenByteArray:
        out.emplace_back(Hex(v.bytes[i]));
        break;
    }
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Write(const std::string& out_path, const std::string& spec_path) {
  json::object spec = json::parse(ReadFile(spec_path)).as_object();
  WriterOptions options;
  if (auto it = spec.find("options"); it != spec.end()) {
    const json::object& o = it->value().as_object();
    options.codec = static_cast<Codec>(Lookup(kCodecs, Get<std::string>(o, "codec", "ZSTD")));
    options.dictionary = Get<bool>(o, "dictionary", true);
    options.statistics = Get<bool>(o, "statistics", true);
    options.zstd_level = Get<int>(o, "zstd_level", 1);
    options.data_page_bytes = Get<size_t>(o, "data_page_bytes", options.data_page_bytes);
    options.dictionary_page_limit_bytes =
        Get<size_t>(o, "dictionary_page_limit_bytes", options.dictionary_page_limit_bytes);
    options.created_by = Get<std::string>(o, "created_by", options.created_by);
  }
  std::vector<ColumnSchema> schema;
  for (const json::value& c : spec.at("columns").as_array()) {
    schema.push_back(SchemaFromJson(c.as_object()));
  }
  auto writer = Writer::Create(schema, options);
  if (!writer.ok()) {
    std::cerr << writer.status().ToString() << "\n";
    return 1;
  }
  for (const json::value& rg : spec.at("row_groups").as_array()) {
    const json::array& cols = rg.as_array();
    std::vector<ColumnVector> vectors;
    size_t rows = cols.empty() ? 0 : cols[0].as_array().size();
    for (size_t i = 0; i < cols.size() && i < schema.size(); ++i) {
      vectors.push_back(VectorFromJson(schema[i], cols[i].as_array()));
    }
    Status st = (*writer)->WriteRowGroup(vectors, rows);
    if (!st.ok()) {
      std::cerr << st.ToString() << "\n";
      return 1;
    }
  }
  KeyValueMetadata kv;
  if (auto it = spec.find("key_value_metadata"); it != spec.end()) {
    for (const json::value& pair : it->value().as_array()) {
      const json::array& p = pair.as_array();
      kv.emplace_back(std::string(p.at(0).as_string()), std::string(p.at(1).as_string()));
    }
  }
  auto file = (*writer)->Finish(kv);
  if (!file.ok()) {
    std::cerr << file.status().ToString() << "\n";
    return 1;
  }
  std::ofstream out(out_path, std::ios::binary);
  out.write(file->data(), static_cast<std::streamsize>(file->size()));
  return out ? 0 : 1;
}

int Read(const std::string& path) {
  std::string data = ReadFile(path);
  auto reader = Reader::Open(data);
  if (!reader.ok()) {
    std::cerr << reader.status().ToString() << "\n";
    return 1;
  }
  const FileMetadata& md = (*reader)->metadata();
  json::object out;
  out["num_rows"] = md.num_rows;
  out["created_by"] = md.created_by;
  json::array kv;
  for (const auto& [k, v] : md.key_value_metadata) kv.push_back(json::array{k, v});
  out["key_value_metadata"] = std::move(kv);
  json::array columns;
  for (const ColumnSchema& c : md.schema) columns.push_back(SchemaToJson(c));
  out["columns"] = std::move(columns);
  json::array groups;
  for (size_t g = 0; g < md.row_groups.size(); ++g) {
    const RowGroupInfo& rg = md.row_groups[g];
    json::object group;
    group["num_rows"] = rg.num_rows;
    json::array chunks;
    for (size_t c = 0; c < md.schema.size(); ++c) {
      const ColumnChunkInfo& info = rg.columns[c];
      json::object chunk;
      chunk["codec"] = std::string(CodecName(info.codec));
      chunk["num_values"] = info.num_values;
      chunk["total_compressed_size"] = info.total_compressed_size;
      chunk["total_uncompressed_size"] = info.total_uncompressed_size;
      chunk["stats"] = json::object{{"min", StatJson(info.stats.min)},
                                    {"max", StatJson(info.stats.max)},
                                    {"null_count", info.stats.null_count}};
      auto values = (*reader)->ReadColumn(static_cast<int>(g), static_cast<int>(c));
      if (!values.ok()) {
        std::cerr << "row group " << g << " column " << md.schema[c].name << ": "
                  << values.status().ToString() << "\n";
        return 1;
      }
      chunk["values"] = VectorToJson(md.schema[c], *values, static_cast<size_t>(rg.num_rows));
      chunks.push_back(std::move(chunk));
    }
    group["columns"] = std::move(chunks);
    groups.push_back(std::move(group));
  }
  out["row_groups"] = std::move(groups);
  std::cout << json::serialize(out) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "write" && argc == 4) return Write(argv[2], argv[3]);
    if (mode == "read" && argc == 3) return Read(argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "parquet_tool: " << e.what() << "\n";
    return 2;
  }
  std::cerr << "usage: parquet_tool write <out.parquet> <spec.json>\n"
               "       parquet_tool read <in.parquet>\n";
  return 2;
}
