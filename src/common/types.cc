// DataType parsing (SQL names and aliases), canonical SQL names and wire names.
#include "common/types.h"

#include <cctype>
#include <cstdint>
#include <vector>

namespace kalam {
namespace {

constexpr int kMaxDecimalPrecision = 38;
constexpr int kDefaultDecimalPrecision = 38;
constexpr int kDefaultDecimalScale = 10;
constexpr int kMaxEmbeddingDimension = 65536;

// What arguments a type name accepts in parentheses.
enum class Args { kNone, kIgnoredLength, kDecimal, kDimension };

struct TypeName {
  std::string_view name;  // upper case, single spaces
  TypeKind kind;
  Args args;
};

constexpr TypeName kTypeNames[] = {
    {"BOOLEAN", TypeKind::kBoolean, Args::kNone},
    {"BOOL", TypeKind::kBoolean, Args::kNone},
    {"SMALLINT", TypeKind::kSmallInt, Args::kNone},
    {"INT2", TypeKind::kSmallInt, Args::kNone},
    {"INT", TypeKind::kInt, Args::kNone},
    {"INTEGER", TypeKind::kInt, Args::kNone},
    {"INT4", TypeKind::kInt, Args::kNone},
    {"BIGINT", TypeKind::kBigInt, Args::kNone},
    {"INT8", TypeKind::kBigInt, Args::kNone},
    {"FLOAT", TypeKind::kFloat, Args::kNone},
    {"REAL", TypeKind::kFloat, Args::kNone},
    {"FLOAT4", TypeKind::kFloat, Args::kNone},
    {"DOUBLE", TypeKind::kDouble, Args::kNone},
    {"DOUBLE PRECISION", TypeKind::kDouble, Args::kNone},
    {"FLOAT8", TypeKind::kDouble, Args::kNone},
    {"DECIMAL", TypeKind::kDecimal, Args::kDecimal},
    {"NUMERIC", TypeKind::kDecimal, Args::kDecimal},
    {"TEXT", TypeKind::kText, Args::kIgnoredLength},
    {"VARCHAR", TypeKind::kText, Args::kIgnoredLength},
    {"CHAR", TypeKind::kText, Args::kIgnoredLength},
    {"STRING", TypeKind::kText, Args::kIgnoredLength},
    {"CHARACTER VARYING", TypeKind::kText, Args::kIgnoredLength},
    {"BYTES", TypeKind::kBytes, Args::kNone},
    {"BINARY", TypeKind::kBytes, Args::kNone},
    {"VARBINARY", TypeKind::kBytes, Args::kNone},
    {"BLOB", TypeKind::kBytes, Args::kNone},
    {"BYTEA", TypeKind::kBytes, Args::kNone},
    {"JSON", TypeKind::kJson, Args::kNone},
    {"JSONB", TypeKind::kJson, Args::kNone},
    {"TIMESTAMP", TypeKind::kTimestamp, Args::kNone},
    {"DATETIME", TypeKind::kDateTime, Args::kNone},
    {"DATE", TypeKind::kDate, Args::kNone},
    {"TIME", TypeKind::kTime, Args::kNone},
    {"UUID", TypeKind::kUuid, Args::kNone},
    {"EMBEDDING", TypeKind::kEmbedding, Args::kDimension},
    {"FILE", TypeKind::kFile, Args::kNone},
};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Upper-cases and collapses whitespace runs to one space ("double   precision" → "DOUBLE
// PRECISION"). Returns false if the name holds anything but letters, digits, '_' and spaces.
bool NormaliseName(std::string_view s, std::string* out) {
  out->clear();
  bool pending_space = false;
  for (char c : s) {
    if (IsSpace(c)) {
      pending_space = true;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    if (pending_space && !out->empty()) *out += ' ';
    pending_space = false;
    *out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return !out->empty();
}

// Parses one argument: decimal digits only. Values too large to matter saturate at INT32_MAX so
// that range checks report them.
bool ParseArg(std::string_view s, int* out) {
  s = Trim(s);
  if (s.empty()) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
    if (v > INT32_MAX) v = INT32_MAX;
  }
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

std::string_view VectorMetricName(VectorMetric metric) {
  switch (metric) {
    case VectorMetric::kCosine: return "Cosine";
    case VectorMetric::kL2: return "L2";
    case VectorMetric::kDot: return "Dot";
  }
  return "Cosine";
}

std::optional<VectorMetric> ParseVectorMetric(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "COSINE") return VectorMetric::kCosine;
  if (upper == "L2") return VectorMetric::kL2;
  if (upper == "DOT") return VectorMetric::kDot;
  return std::nullopt;
}

std::string_view TypeKindWireName(TypeKind kind) {
  switch (kind) {
    case TypeKind::kBoolean: return "Boolean";
    case TypeKind::kSmallInt: return "SmallInt";
    case TypeKind::kInt: return "Int";
    case TypeKind::kBigInt: return "BigInt";
    case TypeKind::kFloat: return "Float";
    case TypeKind::kDouble: return "Double";
    case TypeKind::kDecimal: return "Decimal";
    case TypeKind::kText: return "Text";
    case TypeKind::kBytes: return "Bytes";
    case TypeKind::kJson: return "Json";
    case TypeKind::kTimestamp: return "Timestamp";
    case TypeKind::kDate: return "Date";
    case TypeKind::kDateTime: return "DateTime";
    case TypeKind::kTime: return "Time";
    case TypeKind::kUuid: return "Uuid";
    case TypeKind::kEmbedding: return "Embedding";
    case TypeKind::kFile: return "File";
  }
  return "Text";
}

Result<DataType> DataType::Parse(std::string_view sql) {
  const std::string_view text = Trim(sql);
  const std::string quoted = "'" + std::string(text) + "'";

  std::string_view head = text;
  std::vector<std::string_view> args;
  bool has_parens = false;
  if (size_t lp = text.find('('); lp != std::string_view::npos) {
    has_parens = true;
    if (text.back() != ')') return Status::InvalidArgument("Malformed data type " + quoted);
    head = text.substr(0, lp);
    std::string_view inner = text.substr(lp + 1, text.size() - lp - 2);
    if (inner.find_first_of("()") != std::string_view::npos) {
      return Status::InvalidArgument("Malformed data type " + quoted);
    }
    while (true) {
      size_t comma = inner.find(',');
      args.push_back(inner.substr(0, comma));
      if (comma == std::string_view::npos) break;
      inner.remove_prefix(comma + 1);
    }
  }

  std::string name;
  const TypeName* match = nullptr;
  if (NormaliseName(head, &name)) {
    for (const TypeName& t : kTypeNames) {
      if (t.name == name) {
        match = &t;
        break;
      }
    }
  }
  if (match == nullptr) return Status::InvalidArgument("Unknown data type " + quoted);

  std::vector<int> nums;
  for (std::string_view a : args) {
    int v = 0;
    if (!ParseArg(a, &v)) {
      return Status::InvalidArgument("Invalid argument '" + std::string(Trim(a)) +
                                     "' in data type " + quoted +
                                     ": expected a non-negative integer");
    }
    nums.push_back(v);
  }

  DataType type;
  type.kind = match->kind;
  switch (match->args) {
    case Args::kNone:
      if (has_parens) {
        return Status::InvalidArgument("Data type " + name + " takes no arguments, got " + quoted);
      }
      break;
    case Args::kIgnoredLength:
      if (nums.size() > 1) {
        return Status::InvalidArgument("Data type " + name + " takes at most one length, got " +
                                       quoted);
      }
      break;
    case Args::kDecimal:
      if (nums.size() > 2) {
        return Status::InvalidArgument("DECIMAL takes (precision[, scale]), got " + quoted);
      }
      type.precision = has_parens ? nums[0] : kDefaultDecimalPrecision;
      type.scale = has_parens ? (nums.size() == 2 ? nums[1] : 0) : kDefaultDecimalScale;
      if (type.precision < 1 || type.precision > kMaxDecimalPrecision) {
        return Status::InvalidArgument("DECIMAL precision must be between 1 and " +
                                       std::to_string(kMaxDecimalPrecision) + ", got " +
                                       std::to_string(type.precision));
      }
      if (type.scale > type.precision) {
        return Status::InvalidArgument("DECIMAL scale must be between 0 and the precision " +
                                       std::to_string(type.precision) + ", got " +
                                       std::to_string(type.scale));
      }
      break;
    case Args::kDimension:
      if (!has_parens || nums.size() != 1) {
        return Status::InvalidArgument(
            "EMBEDDING requires one dimension, e.g. EMBEDDING(384), got " + quoted);
      }
      type.dimension = nums[0];
      if (type.dimension < 1 || type.dimension > kMaxEmbeddingDimension) {
        return Status::InvalidArgument("EMBEDDING dimension must be between 1 and " +
                                       std::to_string(kMaxEmbeddingDimension) + ", got " +
                                       std::to_string(type.dimension));
      }
      break;
  }
  return type;
}

std::string DataType::SqlName() const {
  switch (kind) {
    case TypeKind::kBoolean: return "BOOLEAN";
    case TypeKind::kSmallInt: return "SMALLINT";
    case TypeKind::kInt: return "INT";
    case TypeKind::kBigInt: return "BIGINT";
    case TypeKind::kFloat: return "FLOAT";
    case TypeKind::kDouble: return "DOUBLE";
    case TypeKind::kDecimal:
      return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeKind::kText: return "TEXT";
    case TypeKind::kBytes: return "BYTES";
    case TypeKind::kJson: return "JSON";
    case TypeKind::kTimestamp: return "TIMESTAMP";
    case TypeKind::kDate: return "DATE";
    case TypeKind::kDateTime: return "DATETIME";
    case TypeKind::kTime: return "TIME";
    case TypeKind::kUuid: return "UUID";
    case TypeKind::kEmbedding: return "EMBEDDING(" + std::to_string(dimension) + ")";
    case TypeKind::kFile: return "FILE";
  }
  return "TEXT";
}

std::string DataType::WireJson() const {
  switch (kind) {
    case TypeKind::kDecimal:
      return "{\"Decimal\":{\"precision\":" + std::to_string(precision) +
             ",\"scale\":" + std::to_string(scale) + "}}";
    case TypeKind::kEmbedding:
      return "{\"Embedding\":" + std::to_string(dimension) + "}";
    default:
      return "\"" + std::string(TypeKindWireName(kind)) + "\"";
  }
}

}  // namespace kalam
