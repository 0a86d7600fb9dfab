// Tests for FilterEngine: WHERE expressions evaluated against one row with a SELECT's semantics
// (typed comparisons, column affinity), shared filters, and what a filter may not read.
#include "live/row_filter.h"

#include <gtest/gtest.h>

#include "common/value_convert.h"
#include "live/subscription_query.h"

namespace kalam::live {
namespace {

using catalog::ColumnDef;
using catalog::TableDef;

ColumnDef Column(uint32_t id, std::string name, TypeKind kind, bool pk = false) {
  ColumnDef c;
  c.column_id = id;
  c.name = std::move(name);
  c.type.kind = kind;
  c.primary_key = pk;
  c.nullable = !pk;
  return c;
}

// ev (id UUID PK, at TIMESTAMP, day DATE, t TIME, n INT, label TEXT), table 7, version 1.
TableDef Events() {
  TableDef def;
  def.table_id = 7;
  def.namespace_id = "app";
  def.table_name = "ev";
  def.schema_version = 1;
  def.columns = {Column(1, "id", TypeKind::kUuid, true), Column(2, "at", TypeKind::kTimestamp),
                 Column(3, "day", TypeKind::kDate), Column(4, "t", TypeKind::kTime),
                 Column(5, "n", TypeKind::kInt), Column(6, "label", TypeKind::kText)};
  def.next_column_id = 7;
  return def;
}

// A row of Events() from literals as an INSERT would store them (nullopt = NULL).
std::vector<Value> Row(const TableDef& def, std::vector<std::optional<std::string>> literals) {
  std::vector<Value> row;
  for (size_t i = 0; i < def.columns.size(); ++i) {
    if (i >= literals.size() || !literals[i]) {
      row.push_back(Value::Null());
      continue;
    }
    const bool number = def.columns[i].type.kind == TypeKind::kInt;
    const Value input = number ? Value::Int(std::stoll(*literals[i])) : Value::Text(*literals[i]);
    auto v = CoerceToColumn(def.columns[i].type, input, def.columns[i].name);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    row.push_back(v.ok() ? *v : Value::Null());
  }
  return row;
}

class FilterEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = FilterEngine::Create();
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }

  Result<std::shared_ptr<const FilterEngine::Filter>> Compile(const TableDef& def,
                                                              const std::string& where) {
    auto q = ParseSubscriptionQuery("SELECT * FROM app." + def.table_name + " WHERE " + where);
    EXPECT_TRUE(std::holds_alternative<SubscriptionQuery>(q)) << where;
    const auto& sq = std::get<SubscriptionQuery>(q);
    return engine_->Compile(def, sq.where_tokens, sq.statement_text);
  }

  // Compiles `where` (which must compile) and matches it against `row` of `def`.
  bool Matches(const TableDef& def, const std::string& where, const std::vector<Value>& row) {
    auto filter = Compile(def, where);
    EXPECT_TRUE(filter.ok()) << where << ": " << filter.status().ToString();
    return filter.ok() && engine_->Matches(**filter, def, row, 100, false);
  }

  std::unique_ptr<FilterEngine> engine_;
};

TEST_F(FilterEngineTest, TypedColumnsCompareWithLiteralsTheWayPeopleWriteThem) {
  const TableDef def = Events();
  const auto march = Row(def, {"0190c9a0-0000-7000-8000-000000000002", "2026-03-15T12:30:00Z",
                               "2026-03-15", "12:30:00", "2", "b"});
  EXPECT_TRUE(Matches(def, "at > '2026-02-01T00:00:00Z'", march));
  EXPECT_FALSE(Matches(def, "at > '2026-04-01T00:00:00Z'", march));
  EXPECT_TRUE(Matches(def, "at = '2026-03-15T14:30:00+02:00'", march));
  EXPECT_TRUE(Matches(def, "at <= '2026-03-15 12:30:00'", march));
  EXPECT_TRUE(Matches(def, "day BETWEEN '2026-03-01' AND '2026-03-31'", march));
  EXPECT_FALSE(Matches(def, "day != '2026-03-15'", march));
  EXPECT_TRUE(Matches(def, "t >= '12:30:00' AND t < '13:00:00'", march));
  EXPECT_TRUE(Matches(def, "id = '0190C9A0-0000-7000-8000-000000000002'", march));
  EXPECT_TRUE(Matches(def, "id IN ('0190C9A0-0000-7000-8000-000000000001', "
                           "'0190C9A0-0000-7000-8000-000000000002')", march));
  EXPECT_FALSE(Matches(def, "id = '0190C9A0-0000-7000-8000-000000000003'", march));
  // Stored forms keep working, and the columns' affinity applies as in a SELECT.
  EXPECT_TRUE(Matches(def, "at > 1767225600000000", march));
  EXPECT_TRUE(Matches(def, "n = '2'", march));
  EXPECT_TRUE(Matches(def, "label LIKE 'B' AND _seq = 100 AND _deleted = 0", march));
}

TEST_F(FilterEngineTest, NullNeverSatisfiesATypedComparison) {
  const TableDef def = Events();
  const auto nulls = Row(def, {"0190c9a0-0000-7000-8000-000000000009"});
  EXPECT_FALSE(Matches(def, "at > '2000-01-01'", nulls));
  EXPECT_FALSE(Matches(def, "at != '2000-01-01'", nulls));
  EXPECT_TRUE(Matches(def, "at IS NULL", nulls));
  EXPECT_FALSE(Matches(def, "at = NULL", nulls));
}

TEST_F(FilterEngineTest, ALiteralThatDoesNotConvertFailsToCompileNamingTheColumn) {
  const TableDef def = Events();
  for (const char* where : {"at > 'yesterday'", "id = 'nope'", "day < '2026-13-01'"}) {
    auto filter = Compile(def, where);
    ASSERT_FALSE(filter.ok()) << where;
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidSql);
    EXPECT_NE(filter.status().message().find("Invalid subscription filter: "), std::string::npos);
    EXPECT_NE(filter.status().message().find("column '"), std::string::npos)
        << filter.status().message();
  }
}

TEST_F(FilterEngineTest, UnknownColumnsParametersAndOtherTablesAreRefused) {
  const TableDef def = Events();
  ASSERT_TRUE(Compile(def, "n > 1").ok());  // creates this table's row table
  TableDef other = Events();
  other.table_id = 8;
  other.table_name = "other";
  for (const char* where : {"nope = 1", "n = $1", "(SELECT count(*) FROM sqlite_schema) > 0",
                            "(SELECT count(*) FROM temp.sqlite_master) > 0",
                            "n IN (SELECT n FROM temp.r1)"}) {
    auto filter = Compile(other, where);
    ASSERT_FALSE(filter.ok()) << where;
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidSql) << where;
  }
}

TEST_F(FilterEngineTest, TheSameFilterTextOnTheSameTableVersionIsOneFilter) {
  const TableDef def = Events();
  auto a = Compile(def, "n > 1");
  auto b = Compile(def, "n  >  1");  // the same tokens
  auto c = Compile(def, "n > 2");
  TableDef v2 = def;
  v2.schema_version = 2;
  auto d = Compile(v2, "n > 1");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_NE(a->get(), c->get());
  EXPECT_NE(a->get(), d->get());
  EXPECT_EQ(engine_->row_tables(), 2u);
  a->reset();
  b->reset();
  auto again = Compile(def, "n > 1");  // compiled anew once the last owner let go
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(engine_->Matches(**again, def, Row(def, {"0190c9a0-0000-7000-8000-000000000001",
                                                       std::nullopt, std::nullopt, std::nullopt,
                                                       "5"}),
                               1, false));
}

TEST_F(FilterEngineTest, ARowOfAnotherSchemaVersionIsMatchedByColumnId) {
  const TableDef v1 = Events();
  auto filter = Compile(v1, "n = 5 AND label = 'x'");
  ASSERT_TRUE(filter.ok());
  // v2: `label` dropped, `extra` added, columns reordered.
  TableDef v2 = v1;
  v2.schema_version = 2;
  v2.columns = {Column(5, "n", TypeKind::kInt), Column(1, "id", TypeKind::kUuid, true),
                Column(9, "extra", TypeKind::kText)};
  std::vector<Value> row = {Value::Int(5), Value::Text("0190c9a0-0000-7000-8000-000000000001"),
                            Value::Text("x")};
  EXPECT_FALSE(engine_->Matches(**filter, v2, row, 1, false));  // label reads as NULL
  auto only_n = Compile(v1, "n = 5 AND label IS NULL");
  ASSERT_TRUE(only_n.ok());
  EXPECT_TRUE(engine_->Matches(**only_n, v2, row, 1, false));
}

TEST_F(FilterEngineTest, UnusedRowTablesAreKeptUpToALimitThenDropped) {
  std::vector<std::shared_ptr<const FilterEngine::Filter>> filters;
  for (int i = 0; i < 17; ++i) {
    TableDef def = Events();
    def.table_id = 100 + i;
    auto f = Compile(def, "n > 1");
    ASSERT_TRUE(f.ok());
    filters.push_back(*f);
  }
  EXPECT_EQ(engine_->row_tables(), 17u);
  for (int i = 0; i < 16; ++i) filters[i].reset();
  EXPECT_EQ(engine_->row_tables(), 17u);  // 16 unused ones are kept
  filters[16].reset();
  EXPECT_EQ(engine_->row_tables(), 0u);
  // And filters compile and match as before.
  const TableDef def = Events();
  EXPECT_TRUE(Matches(def, "n > 1", Row(def, {"0190c9a0-0000-7000-8000-000000000001",
                                              std::nullopt, std::nullopt, std::nullopt, "5"})));
}

}  // namespace
}  // namespace kalam::live
