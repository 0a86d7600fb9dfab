// TableDef helpers and its JSON persistence form.
#include "catalog/table_def.h"

#include <algorithm>

#include <boost/json.hpp>

#include "common/value_json.h"

namespace kalam::catalog {

namespace json = boost::json;

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

json::value ValueToJson(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return nullptr;
    case Value::Kind::kInt: return json::object{{"i", v.as_int()}};
    case Value::Kind::kDouble: return json::object{{"d", v.as_double()}};
    case Value::Kind::kText: return json::object{{"t", v.as_text()}};
    case Value::Kind::kBlob: {
      static const char* kHex = "0123456789abcdef";
      std::string hex;
      for (unsigned char c : v.as_bytes()) {
        hex.push_back(kHex[c >> 4]);
        hex.push_back(kHex[c & 15]);
      }
      return json::object{{"b", hex}};
    }
  }
  return nullptr;
}

Result<Value> ValueFromJson(const json::value& j) {
  if (j.is_null()) return Value::Null();
  if (!j.is_object()) return Status::Corruption("bad stored literal");
  const auto& o = j.as_object();
  if (auto* p = o.if_contains("i")) return Value::Int(p->to_number<int64_t>());
  if (auto* p = o.if_contains("d")) return Value::Double(p->to_number<double>());
  if (auto* p = o.if_contains("t")) return Value::Text(std::string(p->as_string()));
  if (auto* p = o.if_contains("b")) {
    std::string_view hex = p->as_string();
    std::string bytes;
    auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(char(nib(hex[i]) * 16 + nib(hex[i + 1])));
    return Value::Bytes(std::move(bytes));
  }
  return Status::Corruption("bad stored literal");
}

}  // namespace

std::string DefaultSpec::ToSql(const DataType& type) const {
  switch (kind) {
    case Kind::kNone: return "";
    case Kind::kNow: return "NOW()";
    case Kind::kSnowflakeId: return "SNOWFLAKE_ID()";
    case Kind::kUuidV7: return "UUID_V7()";
    case Kind::kUlid: return "ULID()";
    case Kind::kCurrentUser: return "CURRENT_USER()";
    case Kind::kLiteral: break;
  }
  switch (literal.kind()) {
    case Value::Kind::kNull: return "NULL";
    case Value::Kind::kInt:
      if (type.kind == TypeKind::kBoolean) return literal.as_int() ? "TRUE" : "FALSE";
      return std::to_string(literal.as_int());
    case Value::Kind::kDouble: {
      std::string out;
      // Cannot fail: AppendJsonValue refuses only NaN and ±Infinity, and a double default is
      // always finite — CoerceToColumn (value_convert.cc) refuses non-finite values before a
      // default is stored, and a stored default comes back from JSON, which cannot hold them.
      (void)AppendJsonValue(nullptr, literal, &out);
      return out;
    }
    case Value::Kind::kText: {
      std::string out = "'";
      for (char c : literal.as_text()) {
        if (c == '\'') out.push_back('\'');
        out.push_back(c);
      }
      return out + "'";
    }
    case Value::Kind::kBlob: return literal.DebugString();
  }
  return "";
}

bool TableDef::has_pk() const {
  for (const auto& c : columns) {
    if (c.primary_key) return true;
  }
  return false;
}

size_t TableDef::pk_index() const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].primary_key) return i;
  }
  return 0;
}

int TableDef::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (IEquals(columns[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

std::string TableDef::ToJson() const {
  json::array cols;
  for (const auto& c : columns) {
    json::object col{
        {"column_id", c.column_id},
        {"name", c.name},
        {"type", c.type.SqlName()},
        {"nullable", c.nullable},
        {"primary_key", c.primary_key},
        {"default_kind", static_cast<int>(c.default_value.kind)},
        {"default_literal", ValueToJson(c.default_value.literal)},
        {"comment", c.comment},
        {"missing_value", ValueToJson(c.missing_value)},
    };
    if (c.vector_index) {
      col["vector_index"] = json::object{
          {"metric", VectorMetricName(c.vector_index->metric)},
          {"since_version", c.vector_index->since_version},
      };
    }
    cols.push_back(std::move(col));
  }
  json::object opts{
      {"storage_id", options.storage_id},
      {"use_user_storage", options.use_user_storage},
      {"flush_rows", options.flush_policy.row_limit},
      {"flush_interval_seconds", options.flush_policy.interval_seconds},
      {"deleted_retention_hours", options.deleted_retention_hours},
      {"ttl_seconds", options.ttl_seconds},
      {"max_rows_per_user", options.max_rows_per_user},
      {"ephemeral", options.ephemeral},
      {"access_level", AccessLevelName(options.access_level)},
  };
  json::object o{
      {"table_id", table_id},
      {"namespace_id", namespace_id},
      {"table_name", table_name},
      {"table_type", TableTypeName(type)},
      {"schema_version", schema_version},
      {"columns", std::move(cols)},
      {"next_column_id", next_column_id},
      {"options", std::move(opts)},
      {"comment", comment},
      {"created_at_us", created_at_us},
      {"updated_at_us", updated_at_us},
  };
  return json::serialize(o);
}

Result<std::shared_ptr<TableDef>> TableDef::FromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("Stored table definition is not valid JSON");
  try {
    const auto& o = v.as_object();
    auto def = std::make_shared<TableDef>();
    def->table_id = o.at("table_id").to_number<uint64_t>();
    def->namespace_id = std::string(o.at("namespace_id").as_string());
    def->table_name = std::string(o.at("table_name").as_string());
    std::string_view tt = o.at("table_type").as_string();
    def->type = tt == "USER" ? TableType::kUser
                : tt == "STREAM" ? TableType::kStream
                : tt == "SYSTEM" ? TableType::kSystem
                                 : TableType::kShared;
    def->schema_version = o.at("schema_version").to_number<uint32_t>();
    for (const auto& cj : o.at("columns").as_array()) {
      const auto& c = cj.as_object();
      ColumnDef col;
      col.column_id = c.at("column_id").to_number<uint32_t>();
      col.name = std::string(c.at("name").as_string());
      KALAM_ASSIGN_OR_RETURN(col.type, DataType::Parse(c.at("type").as_string()));
      col.nullable = c.at("nullable").as_bool();
      col.primary_key = c.at("primary_key").as_bool();
      col.default_value.kind = static_cast<DefaultSpec::Kind>(c.at("default_kind").to_number<int>());
      KALAM_ASSIGN_OR_RETURN(col.default_value.literal, ValueFromJson(c.at("default_literal")));
      col.comment = std::string(c.at("comment").as_string());
      if (const auto* missing = c.if_contains("missing_value")) {
        KALAM_ASSIGN_OR_RETURN(col.missing_value, ValueFromJson(*missing));
      } else if (col.default_value.kind == DefaultSpec::Kind::kLiteral) {
        // Written before missing_value existed, when old versions read the literal DEFAULT.
        col.missing_value = col.default_value.literal;
      }
      if (const auto* vi = c.if_contains("vector_index")) {
        const auto& vo = vi->as_object();
        auto metric = ParseVectorMetric(vo.at("metric").as_string());
        if (!metric) return Status::Corruption("Stored vector index has an unknown metric");
        col.vector_index = VectorIndexDef{*metric, vo.at("since_version").to_number<uint32_t>()};
      }
      def->columns.push_back(std::move(col));
    }
    uint32_t max_column_id = 0;
    for (const auto& col : def->columns) max_column_id = std::max(max_column_id, col.column_id);
    def->next_column_id = max_column_id + 1;  // written before next_column_id existed
    if (const auto* next = o.if_contains("next_column_id")) {
      def->next_column_id = std::max(def->next_column_id, next->to_number<uint32_t>());
    }
    const auto& op = o.at("options").as_object();
    def->options.storage_id = std::string(op.at("storage_id").as_string());
    def->options.use_user_storage = op.at("use_user_storage").as_bool();
    def->options.flush_policy.row_limit = op.at("flush_rows").to_number<uint64_t>();
    def->options.flush_policy.interval_seconds = op.at("flush_interval_seconds").to_number<uint64_t>();
    def->options.deleted_retention_hours = op.at("deleted_retention_hours").to_number<uint32_t>();
    def->options.ttl_seconds = op.at("ttl_seconds").to_number<uint32_t>();
    if (const auto* m = op.if_contains("max_rows_per_user")) {
      def->options.max_rows_per_user = m->to_number<uint64_t>();
    }
    if (const auto* e = op.if_contains("ephemeral")) def->options.ephemeral = e->as_bool();
    def->options.access_level =
        ParseAccessLevel(op.at("access_level").as_string()).value_or(AccessLevel::kPrivate);
    def->comment = std::string(o.at("comment").as_string());
    def->created_at_us = o.at("created_at_us").to_number<int64_t>();
    def->updated_at_us = o.at("updated_at_us").to_number<int64_t>();
    return def;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("Stored table definition is malformed: ") + e.what());
  }
}

}  // namespace kalam::catalog
