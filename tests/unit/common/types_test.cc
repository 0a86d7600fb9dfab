// Tests for DataType parsing, SQL names and wire names.
#include "common/types.h"

#include <gtest/gtest.h>

namespace kalam {
namespace {

DataType Parsed(std::string_view sql) {
  Result<DataType> r = DataType::Parse(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  return r.ok() ? *r : DataType{};
}

std::string ParseError(std::string_view sql) {
  Result<DataType> r = DataType::Parse(sql);
  EXPECT_FALSE(r.ok()) << sql;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(DataTypeParseTest, EveryAliasMapsToItsKind) {
  const std::pair<const char*, TypeKind> cases[] = {
      {"BOOLEAN", TypeKind::kBoolean},   {"BOOL", TypeKind::kBoolean},
      {"SMALLINT", TypeKind::kSmallInt}, {"INT2", TypeKind::kSmallInt},
      {"INT", TypeKind::kInt},           {"INTEGER", TypeKind::kInt},
      {"INT4", TypeKind::kInt},          {"BIGINT", TypeKind::kBigInt},
      {"INT8", TypeKind::kBigInt},       {"FLOAT", TypeKind::kFloat},
      {"REAL", TypeKind::kFloat},        {"FLOAT4", TypeKind::kFloat},
      {"DOUBLE", TypeKind::kDouble},     {"DOUBLE PRECISION", TypeKind::kDouble},
      {"FLOAT8", TypeKind::kDouble},     {"DECIMAL", TypeKind::kDecimal},
      {"NUMERIC", TypeKind::kDecimal},   {"TEXT", TypeKind::kText},
      {"VARCHAR", TypeKind::kText},      {"CHAR", TypeKind::kText},
      {"STRING", TypeKind::kText},       {"CHARACTER VARYING", TypeKind::kText},
      {"BYTES", TypeKind::kBytes},       {"BINARY", TypeKind::kBytes},
      {"VARBINARY", TypeKind::kBytes},   {"BLOB", TypeKind::kBytes},
      {"BYTEA", TypeKind::kBytes},       {"JSON", TypeKind::kJson},
      {"JSONB", TypeKind::kJson},        {"TIMESTAMP", TypeKind::kTimestamp},
      {"DATETIME", TypeKind::kDateTime}, {"DATE", TypeKind::kDate},
      {"TIME", TypeKind::kTime},         {"UUID", TypeKind::kUuid},
      {"FILE", TypeKind::kFile},
  };
  for (const auto& [name, kind] : cases) EXPECT_EQ(Parsed(name).kind, kind) << name;
}

TEST(DataTypeParseTest, IsCaseInsensitiveAndToleratesWhitespace) {
  EXPECT_EQ(Parsed("bigint").kind, TypeKind::kBigInt);
  EXPECT_EQ(Parsed("Int8").kind, TypeKind::kBigInt);
  EXPECT_EQ(Parsed("  double   precision ").kind, TypeKind::kDouble);
  EXPECT_EQ(Parsed("character\tvarying (20)").kind, TypeKind::kText);
  EXPECT_EQ(Parsed("decimal( 10 , 2 )"), (DataType{TypeKind::kDecimal, 10, 2, 0}));
  EXPECT_EQ(Parsed("embedding(384)").dimension, 384);
}

TEST(DataTypeParseTest, TextLengthIsAcceptedAndIgnored) {
  EXPECT_EQ(Parsed("VARCHAR(255)"), DataType{TypeKind::kText});
  EXPECT_EQ(Parsed("CHAR(1)"), DataType{TypeKind::kText});
  EXPECT_EQ(Parsed("STRING(10)"), DataType{TypeKind::kText});
  EXPECT_NE(ParseError("VARCHAR(a)").find("expected a non-negative integer"), std::string::npos);
  EXPECT_NE(ParseError("VARCHAR(1,2)").find("at most one length"), std::string::npos);
}

TEST(DataTypeParseTest, DecimalDefaultsAndArguments) {
  EXPECT_EQ(Parsed("DECIMAL"), (DataType{TypeKind::kDecimal, 38, 10, 0}));
  EXPECT_EQ(Parsed("NUMERIC"), (DataType{TypeKind::kDecimal, 38, 10, 0}));
  EXPECT_EQ(Parsed("DECIMAL(10)"), (DataType{TypeKind::kDecimal, 10, 0, 0}));
  EXPECT_EQ(Parsed("NUMERIC(10,2)"), (DataType{TypeKind::kDecimal, 10, 2, 0}));
  EXPECT_EQ(Parsed("DECIMAL(38,38)"), (DataType{TypeKind::kDecimal, 38, 38, 0}));
  EXPECT_EQ(Parsed("DECIMAL(1,0)"), (DataType{TypeKind::kDecimal, 1, 0, 0}));
}

TEST(DataTypeParseTest, DecimalRejectsOutOfRangePrecisionAndScale) {
  EXPECT_EQ(ParseError("DECIMAL(40,2)"), "DECIMAL precision must be between 1 and 38, got 40");
  EXPECT_EQ(ParseError("DECIMAL(0)"), "DECIMAL precision must be between 1 and 38, got 0");
  EXPECT_EQ(ParseError("DECIMAL(10,12)"),
            "DECIMAL scale must be between 0 and the precision 10, got 12");
  EXPECT_NE(ParseError("DECIMAL(10,-1)").find("non-negative integer"), std::string::npos);
  EXPECT_NE(ParseError("DECIMAL(1,2,3)").find("precision[, scale]"), std::string::npos);
  EXPECT_NE(ParseError("DECIMAL()").find("non-negative integer"), std::string::npos);
  EXPECT_NE(ParseError("DECIMAL(99999999999999999999)").find("got 2147483647"), std::string::npos);
}

TEST(DataTypeParseTest, EmbeddingRequiresDimensionInRange) {
  EXPECT_EQ(Parsed("EMBEDDING(1)").dimension, 1);
  EXPECT_EQ(Parsed("EMBEDDING(65536)").dimension, 65536);
  EXPECT_NE(ParseError("EMBEDDING").find("requires one dimension"), std::string::npos);
  EXPECT_NE(ParseError("EMBEDDING(3,4)").find("requires one dimension"), std::string::npos);
  EXPECT_EQ(ParseError("EMBEDDING(0)"), "EMBEDDING dimension must be between 1 and 65536, got 0");
  EXPECT_EQ(ParseError("EMBEDDING(65537)"),
            "EMBEDDING dimension must be between 1 and 65536, got 65537");
}

TEST(DataTypeParseTest, RejectsUnknownNamesAndStrayArguments) {
  EXPECT_EQ(ParseError("FOO"), "Unknown data type 'FOO'");
  EXPECT_EQ(ParseError("  foo "), "Unknown data type 'foo'");
  EXPECT_EQ(ParseError(""), "Unknown data type ''");
  EXPECT_EQ(ParseError("DOUBLEPRECISION"), "Unknown data type 'DOUBLEPRECISION'");
  EXPECT_EQ(ParseError("TIMESTAMP WITH TIME ZONE"), "Unknown data type 'TIMESTAMP WITH TIME ZONE'");
  EXPECT_EQ(ParseError("INT(11)"), "Data type INT takes no arguments, got 'INT(11)'");
  EXPECT_EQ(ParseError("DECIMAL(10,2"), "Malformed data type 'DECIMAL(10,2'");
  EXPECT_EQ(ParseError("DECIMAL(10,2) x"), "Malformed data type 'DECIMAL(10,2) x'");
  EXPECT_EQ(ParseError("DECIMAL((10))"), "Malformed data type 'DECIMAL((10))'");
  EXPECT_EQ(ParseError("INT-4"), "Unknown data type 'INT-4'");
}

TEST(DataTypeSqlNameTest, CanonicalNamesReparseToTheSameType) {
  const char* inputs[] = {"bool",      "int2",     "integer",      "int8",       "real",
                          "float8",    "numeric",  "decimal(5,1)", "varchar(9)", "blob",
                          "jsonb",     "timestamp", "datetime",    "date",       "time",
                          "uuid",      "embedding(3)", "file"};
  for (const char* in : inputs) {
    const DataType t = Parsed(in);
    EXPECT_EQ(Parsed(t.SqlName()), t) << in << " → " << t.SqlName();
  }
  EXPECT_EQ(Parsed("int8").SqlName(), "BIGINT");
  EXPECT_EQ(Parsed("numeric").SqlName(), "DECIMAL(38,10)");
  EXPECT_EQ(Parsed("decimal(10,2)").SqlName(), "DECIMAL(10,2)");
  EXPECT_EQ(Parsed("embedding(384)").SqlName(), "EMBEDDING(384)");
  EXPECT_EQ(Parsed("double precision").SqlName(), "DOUBLE");
  EXPECT_EQ(Parsed("varchar(20)").SqlName(), "TEXT");
}

TEST(DataTypeWireJsonTest, SimpleTypesAreQuotedNames) {
  EXPECT_EQ(Parsed("BIGINT").WireJson(), "\"BigInt\"");
  EXPECT_EQ(Parsed("BOOLEAN").WireJson(), "\"Boolean\"");
  EXPECT_EQ(Parsed("SMALLINT").WireJson(), "\"SmallInt\"");
  EXPECT_EQ(Parsed("INT").WireJson(), "\"Int\"");
  EXPECT_EQ(Parsed("REAL").WireJson(), "\"Float\"");
  EXPECT_EQ(Parsed("DOUBLE").WireJson(), "\"Double\"");
  EXPECT_EQ(Parsed("TEXT").WireJson(), "\"Text\"");
  EXPECT_EQ(Parsed("BYTEA").WireJson(), "\"Bytes\"");
  EXPECT_EQ(Parsed("JSON").WireJson(), "\"Json\"");
  EXPECT_EQ(Parsed("TIMESTAMP").WireJson(), "\"Timestamp\"");
  EXPECT_EQ(Parsed("DATE").WireJson(), "\"Date\"");
  EXPECT_EQ(Parsed("DATETIME").WireJson(), "\"DateTime\"");
  EXPECT_EQ(Parsed("TIME").WireJson(), "\"Time\"");
  EXPECT_EQ(Parsed("UUID").WireJson(), "\"Uuid\"");
  EXPECT_EQ(Parsed("FILE").WireJson(), "\"File\"");
}

TEST(DataTypeWireJsonTest, ParameterisedTypesAreObjects) {
  EXPECT_EQ(Parsed("EMBEDDING(384)").WireJson(), "{\"Embedding\":384}");
  EXPECT_EQ(Parsed("DECIMAL(10,2)").WireJson(), "{\"Decimal\":{\"precision\":10,\"scale\":2}}");
}

TEST(TypeKindWireNameTest, NamesEveryKind) {
  EXPECT_EQ(TypeKindWireName(TypeKind::kBigInt), "BigInt");
  EXPECT_EQ(TypeKindWireName(TypeKind::kDecimal), "Decimal");
  EXPECT_EQ(TypeKindWireName(TypeKind::kEmbedding), "Embedding");
  EXPECT_EQ(TypeKindWireName(TypeKind::kDateTime), "DateTime");
  EXPECT_EQ(TypeKindWireName(TypeKind::kUuid), "Uuid");
}

}  // namespace
}  // namespace kalam
