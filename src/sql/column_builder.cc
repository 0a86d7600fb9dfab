// Parsed column definitions → catalog columns.
#include "sql/column_builder.h"

#include <cerrno>
#include <cstdlib>
#include <string>

#include "catalog/catalog.h"
#include "common/value_convert.h"

namespace kalam::sql {

Value LiteralValue(const parser::Literal& lit) {
  switch (lit.kind) {
    case parser::LiteralKind::kNull: return Value::Null();
    case parser::LiteralKind::kBoolean: return Value::Int(lit.text == "TRUE" ? 1 : 0);
    case parser::LiteralKind::kInteger: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(lit.text.c_str(), &end, 0);
      if (errno == 0 && end && *end == '\0') return Value::Int(v);
      return Value::Double(std::strtod(lit.text.c_str(), nullptr));
    }
    case parser::LiteralKind::kFloat: return Value::Double(std::strtod(lit.text.c_str(), nullptr));
    case parser::LiteralKind::kString: return Value::Text(lit.text);
    case parser::LiteralKind::kBlob: {
      std::string bytes;
      auto nib = [](char c) {
        return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
      };
      for (size_t i = 0; i + 1 < lit.text.size(); i += 2) {
        bytes.push_back(static_cast<char>(nib(lit.text[i]) * 16 + nib(lit.text[i + 1])));
      }
      return Value::Bytes(std::move(bytes));
    }
  }
  return Value::Null();
}

Status CheckDefaultFits(const catalog::ColumnDef& col) {
  using K = catalog::DefaultSpec::Kind;
  const TypeKind t = col.type.kind;
  auto fail = [&](std::string_view fn) {
    return Status::InvalidArgument("DEFAULT " + std::string(fn) + " does not fit column '" +
                                   col.name + "' of type " + col.type.SqlName());
  };
  switch (col.default_value.kind) {
    case K::kNow:
      if (t != TypeKind::kTimestamp && t != TypeKind::kDateTime && t != TypeKind::kDate &&
          t != TypeKind::kTime && t != TypeKind::kBigInt) {
        return fail("NOW()");
      }
      break;
    case K::kSnowflakeId:
      if (t != TypeKind::kBigInt) return fail("SNOWFLAKE_ID()");
      break;
    case K::kUuidV7:
      if (t != TypeKind::kUuid && t != TypeKind::kText) return fail("UUID_V7()");
      break;
    case K::kUlid:
      if (t != TypeKind::kText) return fail("ULID()");
      break;
    case K::kCurrentUser:
      if (t != TypeKind::kText) return fail("CURRENT_USER()");
      break;
    default: break;
  }
  return Status::OK();
}

Status CheckPrimaryKeyType(const catalog::ColumnDef& col) {
  switch (col.type.kind) {
    case TypeKind::kFloat:
    case TypeKind::kDouble:
    case TypeKind::kJson:
    case TypeKind::kFile:
    case TypeKind::kEmbedding:
    case TypeKind::kBoolean:
      return Status::InvalidArgument("Column '" + col.name + "' of type " + col.type.SqlName() +
                                     " cannot be a PRIMARY KEY");
    default: return Status::OK();
  }
}

Result<catalog::DefaultSpec> BuildDefault(const parser::DefaultExpr& expr,
                                          const catalog::ColumnDef& column) {
  using K = catalog::DefaultSpec::Kind;
  catalog::ColumnDef col = column;
  catalog::DefaultSpec& out = col.default_value;
  out = catalog::DefaultSpec{};
  switch (expr.kind) {
    case parser::DefaultExpr::Kind::kNone: out.kind = K::kNone; break;
    case parser::DefaultExpr::Kind::kNow: out.kind = K::kNow; break;
    case parser::DefaultExpr::Kind::kSnowflakeId: out.kind = K::kSnowflakeId; break;
    case parser::DefaultExpr::Kind::kUuidV7: out.kind = K::kUuidV7; break;
    case parser::DefaultExpr::Kind::kUlid: out.kind = K::kUlid; break;
    case parser::DefaultExpr::Kind::kCurrentUser: out.kind = K::kCurrentUser; break;
    case parser::DefaultExpr::Kind::kLiteral: {
      out.kind = K::kLiteral;
      auto v = CoerceToColumn(col.type, LiteralValue(expr.literal), col.name);
      if (!v.ok()) {
        return Status::InvalidArgument("DEFAULT of column '" + col.name +
                                       "': " + v.status().message());
      }
      out.literal = std::move(*v);
      if (out.literal.is_null()) out.kind = K::kNone;
      break;
    }
  }
  KALAM_RETURN_IF_ERROR(CheckDefaultFits(col));
  return out;
}

Result<catalog::ColumnDef> BuildColumn(const parser::ParsedColumn& c) {
  catalog::ColumnDef col;
  col.name = catalog::LowerName(c.name);
  auto type = DataType::Parse(c.type_text);
  if (!type.ok()) {
    return Status::InvalidArgument("Column '" + col.name + "': " + type.status().message());
  }
  col.type = *type;
  col.nullable = c.nullable && !c.primary_key;
  col.primary_key = c.primary_key;
  col.comment = c.comment;
  if (c.auto_increment && col.type.kind != TypeKind::kBigInt) {
    return Status::InvalidArgument("AUTO_INCREMENT column '" + col.name +
                                   "' must be BIGINT (got " + col.type.SqlName() + ")");
  }
  KALAM_ASSIGN_OR_RETURN(col.default_value, BuildDefault(c.default_value, col));
  if (col.primary_key) KALAM_RETURN_IF_ERROR(CheckPrimaryKeyType(col));
  return col;
}

}  // namespace kalam::sql
