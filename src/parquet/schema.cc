// ColumnSchema ↔ SchemaElement mapping, writer schema validation and statistics sort orders.
#include "parquet/schema.h"

namespace kalam::parquet {

namespace {

// Largest FIXED_LEN_BYTE_ARRAY length whose decimal precision we tabulate.
constexpr int kMaxDecimalBytes = 32;

// floor(log10(2^(8n-1) - 1)): the decimal digits a signed n-byte integer always holds.
int DecimalDigitsForBytes(int n) {
  // log10(2) * (8n - 1), floored, is the same except where 2^(8n-1)-1 is just below a power of
  // ten, which never happens for n ≥ 1.
  double digits = (8.0 * n - 1.0) * 0.30102999566398119521;
  return static_cast<int>(digits);
}

int TimeUnitId(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kMillis:
      return 1;
    case TimeUnit::kMicros:
      return 2;
    case TimeUnit::kNanos:
      return 3;
  }
  return 2;
}

Status Invalid(const ColumnSchema& c, const std::string& what) {
  return Status::InvalidArgument("Parquet column '" + c.name + "': " + what);
}

}  // namespace

int DecimalByteLength(int precision) {
  if (precision < 1) return 0;
  for (int n = 1; n <= kMaxDecimalBytes; ++n) {
    if (DecimalDigitsForBytes(n) >= precision) return n;
  }
  return 0;
}

std::string PhysicalTypeName(PhysicalType type) {
  switch (type) {
    case PhysicalType::kBoolean:
      return "BOOLEAN";
    case PhysicalType::kInt32:
      return "INT32";
    case PhysicalType::kInt64:
      return "INT64";
    case PhysicalType::kInt96:
      return "INT96";
    case PhysicalType::kFloat:
      return "FLOAT";
    case PhysicalType::kDouble:
      return "DOUBLE";
    case PhysicalType::kByteArray:
      return "BYTE_ARRAY";
    case PhysicalType::kFixedLenByteArray:
      return "FIXED_LEN_BYTE_ARRAY";
  }
  return "UNKNOWN";
}

Status ValidateColumnSchema(const ColumnSchema& c) {
  if (c.name.empty()) return Status::InvalidArgument("Parquet column names must not be empty");
  const PhysicalType p = c.physical;
  if (p == PhysicalType::kInt96) {
    return Invalid(c, "INT96 is read-only; store timestamps as INT64 TIMESTAMP");
  }
  if (static_cast<int>(p) > static_cast<int>(PhysicalType::kFixedLenByteArray)) {
    return Invalid(c, "unknown physical type");
  }
  if (p == PhysicalType::kFixedLenByteArray) {
    if (c.type_length <= 0) return Invalid(c, "FIXED_LEN_BYTE_ARRAY needs a positive type_length");
  } else if (c.type_length != 0) {
    return Invalid(c, "type_length is only for FIXED_LEN_BYTE_ARRAY");
  }
  auto need = [&](bool ok, const std::string& what) {
    return ok ? Status::OK() : Invalid(c, what + " (physical type is " + PhysicalTypeName(p) + ")");
  };
  switch (c.logical) {
    case LogicalKind::kNone:
      return Status::OK();
    case LogicalKind::kString:
      return need(p == PhysicalType::kByteArray, "STRING must be BYTE_ARRAY");
    case LogicalKind::kJson:
      return need(p == PhysicalType::kByteArray, "JSON must be BYTE_ARRAY");
    case LogicalKind::kInt:
      if (c.int_bit_width == 64) return need(p == PhysicalType::kInt64, "INT(64) must be INT64");
      if (c.int_bit_width == 8 || c.int_bit_width == 16 || c.int_bit_width == 32) {
        return need(p == PhysicalType::kInt32, "INT(8/16/32) must be INT32");
      }
      return Invalid(c, "INT bit width must be 8, 16, 32 or 64, not " +
                            std::to_string(c.int_bit_width));
    case LogicalKind::kDecimal: {
      if (c.precision < 1) return Invalid(c, "DECIMAL precision must be at least 1");
      if (c.scale < 0 || c.scale > c.precision) {
        return Invalid(c, "DECIMAL scale must be between 0 and the precision");
      }
      switch (p) {
        case PhysicalType::kInt32:
          return need(c.precision <= 9, "DECIMAL on INT32 allows precision up to 9");
        case PhysicalType::kInt64:
          return need(c.precision <= 18, "DECIMAL on INT64 allows precision up to 18");
        case PhysicalType::kFixedLenByteArray:
          if (c.type_length > kMaxDecimalBytes ||
              DecimalDigitsForBytes(c.type_length) >= c.precision) {
            return Status::OK();
          }
          return Invalid(c, "DECIMAL(" + std::to_string(c.precision) + ") needs at least " +
                                std::to_string(DecimalByteLength(c.precision)) +
                                " bytes, type_length is " + std::to_string(c.type_length));
        case PhysicalType::kByteArray:
          return Status::OK();
        default:
          return need(false, "DECIMAL must be INT32, INT64, FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY");
      }
    }
    case LogicalKind::kDate:
      return need(p == PhysicalType::kInt32, "DATE must be INT32");
    case LogicalKind::kTime:
      if (c.unit == TimeUnit::kMillis) {
        return need(p == PhysicalType::kInt32, "TIME(MILLIS) must be INT32");
      }
      return need(p == PhysicalType::kInt64, "TIME(MICROS/NANOS) must be INT64");
    case LogicalKind::kTimestamp:
      return need(p == PhysicalType::kInt64, "TIMESTAMP must be INT64");
    case LogicalKind::kUuid:
      return need(p == PhysicalType::kFixedLenByteArray && c.type_length == 16,
                  "UUID must be FIXED_LEN_BYTE_ARRAY(16)");
  }
  return Invalid(c, "unknown logical kind");
}

format::SchemaElement ToSchemaElement(const ColumnSchema& c) {
  format::SchemaElement e;
  e.name = c.name;
  e.type = static_cast<int32_t>(c.physical);
  if (c.physical == PhysicalType::kFixedLenByteArray) e.type_length = c.type_length;
  e.repetition = c.nullable ? format::kOptional : format::kRequired;
  format::LogicalType& lt = e.logical;
  switch (c.logical) {
    case LogicalKind::kNone:
      break;
    case LogicalKind::kString:
      lt.id = format::kLogicalString;
      e.converted_type = format::kUtf8;
      break;
    case LogicalKind::kJson:
      lt.id = format::kLogicalJson;
      e.converted_type = format::kJson;
      break;
    case LogicalKind::kInt: {
      lt.id = format::kLogicalInteger;
      lt.bit_width = static_cast<int8_t>(c.int_bit_width);
      lt.is_signed = c.int_signed;
      const int step = c.int_bit_width == 8    ? 0
                       : c.int_bit_width == 16 ? 1
                       : c.int_bit_width == 32 ? 2
                                               : 3;
      e.converted_type = (c.int_signed ? format::kInt8 : format::kUint8) + step;
      break;
    }
    case LogicalKind::kDecimal:
      lt.id = format::kLogicalDecimal;
      lt.precision = c.precision;
      lt.scale = c.scale;
      e.converted_type = format::kDecimal;
      e.precision = c.precision;
      e.scale = c.scale;
      break;
    case LogicalKind::kDate:
      lt.id = format::kLogicalDate;
      e.converted_type = format::kDate;
      break;
    case LogicalKind::kTime:
      lt.id = format::kLogicalTime;
      lt.utc_adjusted = c.utc_adjusted;
      lt.unit = static_cast<int16_t>(TimeUnitId(c.unit));
      if (c.unit == TimeUnit::kMillis) e.converted_type = format::kTimeMillis;
      if (c.unit == TimeUnit::kMicros) e.converted_type = format::kTimeMicros;
      break;
    case LogicalKind::kTimestamp:
      lt.id = format::kLogicalTimestamp;
      lt.utc_adjusted = c.utc_adjusted;
      lt.unit = static_cast<int16_t>(TimeUnitId(c.unit));
      if (c.unit == TimeUnit::kMillis) e.converted_type = format::kTimestampMillis;
      if (c.unit == TimeUnit::kMicros) e.converted_type = format::kTimestampMicros;
      break;
    case LogicalKind::kUuid:
      lt.id = format::kLogicalUuid;
      break;
  }
  return e;
}

Result<ColumnSchema> FromSchemaElement(const format::SchemaElement& e) {
  ColumnSchema c;
  c.name = e.name;
  if (!e.type || *e.type < 0 || *e.type > static_cast<int32_t>(PhysicalType::kFixedLenByteArray)) {
    return Status::Corruption("Parquet column '" + e.name + "' has no valid physical type");
  }
  c.physical = static_cast<PhysicalType>(*e.type);
  if (e.repetition && *e.repetition == format::kRepeated) {
    return Status::InvalidArgument("Parquet column '" + e.name +
                                   "' is REPEATED; only flat schemas can be read");
  }
  c.nullable = e.repetition && *e.repetition == format::kOptional;
  if (c.physical == PhysicalType::kFixedLenByteArray) {
    // 16 MiB per value is far beyond any real fixed-length column and keeps sizes in range.
    if (!e.type_length || *e.type_length <= 0 || *e.type_length > (16 << 20)) {
      return Status::Corruption("Parquet column '" + e.name +
                                "' is FIXED_LEN_BYTE_ARRAY without a usable type_length");
    }
    c.type_length = *e.type_length;
  }
  auto unit_of = [](int16_t id) {
    return id == 1 ? TimeUnit::kMillis : id == 3 ? TimeUnit::kNanos : TimeUnit::kMicros;
  };
  const format::LogicalType& lt = e.logical;
  if (lt.id != format::kLogicalNone) {
    switch (lt.id) {
      case format::kLogicalString:
      case format::kLogicalEnum:
        c.logical = LogicalKind::kString;
        break;
      case format::kLogicalJson:
        c.logical = LogicalKind::kJson;
        break;
      case format::kLogicalInteger:
        c.logical = LogicalKind::kInt;
        c.int_bit_width = lt.bit_width;
        c.int_signed = lt.is_signed;
        break;
      case format::kLogicalDecimal:
        c.logical = LogicalKind::kDecimal;
        c.precision = lt.precision;
        c.scale = lt.scale;
        break;
      case format::kLogicalDate:
        c.logical = LogicalKind::kDate;
        break;
      case format::kLogicalTime:
        c.logical = LogicalKind::kTime;
        c.unit = unit_of(lt.unit);
        c.utc_adjusted = lt.utc_adjusted;
        break;
      case format::kLogicalTimestamp:
        c.logical = LogicalKind::kTimestamp;
        c.unit = unit_of(lt.unit);
        c.utc_adjusted = lt.utc_adjusted;
        break;
      case format::kLogicalUuid:
        c.logical = LogicalKind::kUuid;
        break;
      default:
        break;
    }
    return c;
  }
  if (!e.converted_type) return c;
  switch (*e.converted_type) {
    case format::kUtf8:
    case format::kEnum:
      c.logical = LogicalKind::kString;
      break;
    case format::kJson:
      c.logical = LogicalKind::kJson;
      break;
    case format::kDecimal:
      c.logical = LogicalKind::kDecimal;
      c.precision = e.precision.value_or(0);
      c.scale = e.scale.value_or(0);
      break;
    case format::kDate:
      c.logical = LogicalKind::kDate;
      break;
    case format::kTimeMillis:
    case format::kTimeMicros:
      c.logical = LogicalKind::kTime;
      c.unit = *e.converted_type == format::kTimeMillis ? TimeUnit::kMillis : TimeUnit::kMicros;
      c.utc_adjusted = true;  // the legacy annotations meant UTC-normalised values
      break;
    case format::kTimestampMillis:
    case format::kTimestampMicros:
      c.logical = LogicalKind::kTimestamp;
      c.unit =
          *e.converted_type == format::kTimestampMillis ? TimeUnit::kMillis : TimeUnit::kMicros;
      c.utc_adjusted = true;
      break;
    case format::kUint8:
    case format::kUint16:
    case format::kUint32:
    case format::kUint64:
    case format::kInt8:
    case format::kInt16:
    case format::kInt32:
    case format::kInt64: {
      int v = *e.converted_type;
      c.logical = LogicalKind::kInt;
      c.int_signed = v >= format::kInt8;
      c.int_bit_width = 8 << ((v - (c.int_signed ? format::kInt8 : format::kUint8)));
      break;
    }
    default:
      break;
  }
  return c;
}

SortOrder ColumnSortOrder(const ColumnSchema& c) {
  switch (c.physical) {
    case PhysicalType::kBoolean:
    case PhysicalType::kFloat:
    case PhysicalType::kDouble:
      return SortOrder::kSigned;
    case PhysicalType::kInt32:
    case PhysicalType::kInt64:
      return c.logical == LogicalKind::kInt && !c.int_signed ? SortOrder::kUnsigned
                                                             : SortOrder::kSigned;
    case PhysicalType::kInt96:
      return SortOrder::kUnknown;
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      return c.logical == LogicalKind::kDecimal ? SortOrder::kSigned : SortOrder::kUnsigned;
  }
  return SortOrder::kUnknown;
}

}  // namespace kalam::parquet
