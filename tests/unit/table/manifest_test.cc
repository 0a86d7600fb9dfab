// Tests for the manifest JSON: exact round trips of every Value kind and segment field, the stable
// wire form, and refusal of malformed documents with kCorruption naming the field.
#include "table/manifest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace kalam::table {
namespace {

using namespace std::string_literals;

ColumnRange Column(uint32_t id, std::string name, Value min, Value max, int64_t nulls = 0) {
  ColumnRange c;
  c.column_id = id;
  c.name = std::move(name);
  c.min = std::move(min);
  c.max = std::move(max);
  c.null_count = nulls;
  return c;
}

SegmentEntry Segment(int64_t id) {
  SegmentEntry s;
  s.file = "seg-" + std::to_string(id) + ".parquet";
  s.id = id;
  s.row_count = 100 * id;
  s.tombstones = id;
  s.min_seq = 1000 * id;
  s.max_seq = 1000 * id + 99;
  s.schema_version = static_cast<uint32_t>(id);
  s.size_bytes = 4096 * id;
  s.created_at_ms = 1767225600000 + id;
  return s;
}

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void ExpectSameValue(const Value& a, const Value& b) {
  ASSERT_EQ(a.kind(), b.kind()) << a.DebugString() << " vs " << b.DebugString();
  if (a.kind() == Value::Kind::kDouble) {
    if (std::isnan(a.as_double())) {
      EXPECT_TRUE(std::isnan(b.as_double()));
    } else {
      EXPECT_TRUE(SameBits(a.as_double(), b.as_double()))
          << a.as_double() << " vs " << b.as_double();
    }
  } else {
    EXPECT_EQ(a, b);
  }
}

void ExpectSameManifest(const Manifest& a, const Manifest& b) {
  EXPECT_EQ(a.format_version, b.format_version);
  EXPECT_EQ(a.next_segment_id, b.next_segment_id);
  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < a.segments.size(); ++i) {
    const SegmentEntry& x = a.segments[i];
    const SegmentEntry& y = b.segments[i];
    EXPECT_EQ(x.file, y.file);
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.row_count, y.row_count);
    EXPECT_EQ(x.tombstones, y.tombstones);
    EXPECT_EQ(x.min_seq, y.min_seq);
    EXPECT_EQ(x.max_seq, y.max_seq);
    EXPECT_EQ(x.schema_version, y.schema_version);
    EXPECT_EQ(x.size_bytes, y.size_bytes);
    EXPECT_EQ(x.created_at_ms, y.created_at_ms);
    ASSERT_EQ(x.columns.size(), y.columns.size());
    for (size_t c = 0; c < x.columns.size(); ++c) {
      EXPECT_EQ(x.columns[c].column_id, y.columns[c].column_id);
      EXPECT_EQ(x.columns[c].name, y.columns[c].name);
      EXPECT_EQ(x.columns[c].null_count, y.columns[c].null_count);
      ExpectSameValue(x.columns[c].min, y.columns[c].min);
      ExpectSameValue(x.columns[c].max, y.columns[c].max);
    }
  }
  ASSERT_EQ(a.vector_indexes.size(), b.vector_indexes.size());
  for (size_t i = 0; i < a.vector_indexes.size(); ++i) {
    const VectorIndexEntry& x = a.vector_indexes[i];
    const VectorIndexEntry& y = b.vector_indexes[i];
    EXPECT_EQ(x.column_id, y.column_id);
    EXPECT_EQ(x.index_version, y.index_version);
    EXPECT_EQ(x.file, y.file);
    EXPECT_EQ(x.seq, y.seq);
    EXPECT_EQ(x.vectors, y.vectors);
    EXPECT_EQ(x.size_bytes, y.size_bytes);
    EXPECT_EQ(x.sha256, y.sha256);
  }
}

Manifest RoundTrip(const Manifest& m) {
  std::string json = EncodeManifest(m);
  Result<Manifest> back = DecodeManifest(json);
  EXPECT_TRUE(back.ok()) << back.status().ToString() << "\n" << json;
  if (!back.ok()) return {};
  ExpectSameManifest(m, *back);
  // Encoding is deterministic: the decoded manifest encodes to the same text.
  EXPECT_EQ(EncodeManifest(*back), json);
  return *back;
}

TEST(ManifestTest, EmptyManifestHasAStableForm) {
  Manifest m;
  EXPECT_EQ(EncodeManifest(m), R"({"format_version":1,"next_segment_id":1,"segments":[]})");
  RoundTrip(m);
}

TEST(ManifestTest, OneSegmentHasAStableForm) {
  Manifest m;
  m.next_segment_id = 2;
  SegmentEntry s = Segment(1);
  s.columns.push_back(Column(1, "id", Value::Int(1), Value::Int(99)));
  s.columns.push_back(Column(2, "body", Value::Null(), Value::Null(), 100));
  m.segments.push_back(s);
  EXPECT_EQ(EncodeManifest(m),
            R"({"format_version":1,"next_segment_id":2,"segments":[{"file":"seg-1.parquet",)"
            R"("id":1,"row_count":100,"tombstones":1,"min_seq":1000,"max_seq":1099,)"
            R"("schema_version":1,"size_bytes":4096,"created_at_ms":1767225600001,"columns":[)"
            R"({"column_id":1,"name":"id","min":{"int":1},"max":{"int":99},"null_count":0},)"
            R"({"column_id":2,"name":"body","min":null,"max":null,"null_count":100}]}]})");
  RoundTrip(m);
}

TEST(ManifestTest, EveryValueKindRoundTripsExactly) {
  const std::vector<Value> values = {
      Value::Null(),
      Value::Int(0),
      Value::Int(-1),
      Value::Int(std::numeric_limits<int64_t>::min()),
      Value::Int(std::numeric_limits<int64_t>::max()),
      Value::Int(9007199254740993),  // 2^53 + 1: not representable as a double
      Value::Double(0.1),
      Value::Double(-0.0),
      Value::Double(2.0),  // must stay a double, not become an int
      Value::Double(1e308),
      Value::Double(std::numeric_limits<double>::denorm_min()),
      Value::Double(std::numeric_limits<double>::max()),
      Value::Double(std::numeric_limits<double>::lowest()),
      Value::Double(std::numeric_limits<double>::infinity()),
      Value::Double(-std::numeric_limits<double>::infinity()),
      Value::Double(std::numeric_limits<double>::quiet_NaN()),
      Value::Double(0.30000000000000004),
      Value::Text(""),
      Value::Text("hello"),
      Value::Text("quote \" backslash \\ newline \n tab \t nul \0 end"s),
      Value::Text("ünïcødé 🙂 日本"),
      Value::Text("invalid utf-8 \xff\xfe\xc0\xaf"s),  // kept byte for byte
      Value::Text("123"),                               // text that looks like a number
      Value::Bytes(""),
      Value::Bytes("\0\x01\x02\xff"s),
      Value::Bytes("a"),
      Value::Bytes("ab"),
      Value::Bytes("abc"),
  };
  Manifest m;
  SegmentEntry s = Segment(1);
  for (size_t i = 0; i < values.size(); ++i) {
    s.columns.push_back(Column(static_cast<uint32_t>(i + 1), "c" + std::to_string(i), values[i],
                               values[values.size() - 1 - i]));
  }
  m.segments.push_back(s);
  m.next_segment_id = 2;
  RoundTrip(m);
}

TEST(ManifestTest, ValueKindsHaveTheirDocumentedTags) {
  Manifest m;
  SegmentEntry s = Segment(1);
  s.columns.push_back(Column(1, "a", Value::Double(0.1), Value::Double(-0.0)));
  s.columns.push_back(Column(2, "b", Value::Text("x"), Value::Bytes("hi")));
  s.columns.push_back(Column(3, "c", Value::Text("\xff"s),
                             Value::Double(std::numeric_limits<double>::quiet_NaN())));
  m.segments.push_back(s);
  m.next_segment_id = 2;
  std::string json = EncodeManifest(m);
  EXPECT_NE(json.find(R"("min":{"double":"0.1"},"max":{"double":"-0"})"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("min":{"text":"x"},"max":{"bytes":"aGk="})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("min":{"text_base64":"/w=="},"max":{"double":"nan"})"),
            std::string::npos)
      << json;
}

TEST(ManifestTest, ManySegmentsKeepTheirOrder) {
  Manifest m;
  for (int64_t id : {1, 2, 5, 9, 10}) m.segments.push_back(Segment(id));
  m.next_segment_id = 11;
  m.segments[2].columns.push_back(Column(7, "ts", Value::Int(-5), Value::Int(5), 3));
  Manifest back = RoundTrip(m);
  ASSERT_EQ(back.segments.size(), 5u);
  EXPECT_EQ(back.segments[3].id, 9);
  EXPECT_EQ(back.segments[3].file, "seg-9.parquet");
}

TEST(ManifestTest, LimitsOfUnsignedFieldsRoundTrip) {
  Manifest m;
  SegmentEntry s = Segment(1);
  s.schema_version = std::numeric_limits<uint32_t>::max();
  s.columns.push_back(Column(std::numeric_limits<uint32_t>::max(), "x", Value(), Value()));
  s.min_seq = std::numeric_limits<int64_t>::min();
  s.max_seq = std::numeric_limits<int64_t>::max();
  m.segments.push_back(s);
  m.next_segment_id = std::numeric_limits<int64_t>::max();
  RoundTrip(m);
}

// A valid document to break one field at a time.
std::string Valid() {
  return R"({"format_version":1,"next_segment_id":3,"segments":[)"
         R"({"file":"seg-1.parquet","id":1,"row_count":10,"tombstones":2,"min_seq":5,"max_seq":9,)"
         R"("schema_version":1,"size_bytes":100,"created_at_ms":7,"columns":[)"
         R"({"column_id":1,"name":"id","min":{"int":1},"max":{"int":10},"null_count":0}]},)"
         R"({"file":"seg-2.parquet","id":2,"row_count":1,"tombstones":0,"min_seq":10,"max_seq":10,)"
         R"("schema_version":1,"size_bytes":50,"created_at_ms":8,"columns":[]}]})";
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(ManifestTest, TheValidFixtureDecodes) {
  Result<Manifest> m = DecodeManifest(Valid());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->segments.size(), 2u);
  EXPECT_EQ(m->segments[0].columns[0].max, Value::Int(10));
}

// A vector index snapshot entry (docs/vectors.md "Persistence") round-trips in its stable form;
// damaged entries are refused naming the field.
TEST(ManifestTest, VectorIndexEntriesHaveAStableFormAndAreChecked) {
  Manifest m;
  m.next_segment_id = 4;
  VectorIndexEntry e;
  e.column_id = 3;
  e.index_version = 2;
  e.file = "vectors/emb.3.hnsw";
  e.seq = 77;
  e.vectors = 10;
  e.size_bytes = 2048;
  e.sha256 = std::string(64, 'a');
  m.vector_indexes.push_back(e);
  const std::string json = EncodeManifest(m);
  EXPECT_EQ(json, R"({"format_version":1,"next_segment_id":4,"segments":[],"vector_indexes":[)"
                  R"({"column_id":3,"index_version":2,"file":"vectors/emb.3.hnsw","seq":77,)"
                  R"("vectors":10,"size_bytes":2048,"sha256":")" + std::string(64, 'a') + R"("}]})");
  RoundTrip(m);
  auto refused = [&](const std::string& from, const std::string& to) {
    std::string bad = json;
    bad.replace(bad.find(from), from.size(), to);
    auto r = DecodeManifest(bad);
    EXPECT_FALSE(r.ok()) << bad;
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(refused(std::string(64, 'a'), "ABC"),
            "manifest field 'vector_indexes[0].sha256' is not a lower-case hex SHA-256");
  EXPECT_EQ(refused("vectors/emb.3.hnsw", "../x.hnsw"),
            "manifest field 'vector_indexes[0].file' is not a safe relative key: object key "
            "'../x.hnsw' has a '..' segment");
  EXPECT_EQ(refused(R"("seq":77)", R"("seq":-1)"),
            "manifest field 'vector_indexes[0].seq' is out of range (-1)");
  EXPECT_EQ(refused(R"("vector_indexes":[)", R"("vector_indexes":{)"),
            "manifest is not valid JSON: syntax error");
  const std::string entry = json.substr(json.find("[{\"column_id\":3") + 1);
  EXPECT_EQ(refused(R"("vector_indexes":[)",
                    R"("vector_indexes":[)" + entry.substr(0, entry.size() - 2) + ","),
            "manifest field 'vector_indexes[1].column_id' repeats the index of column 3");
}

struct CorruptCase {
  std::string json;
  std::string message;  // the exact kCorruption message
};

TEST(ManifestTest, CorruptInputsAreRefusedNamingTheField) {
  const std::string v = Valid();
  const std::vector<CorruptCase> cases = {
      {"", "manifest is not valid JSON: incomplete JSON"},
      {"{\"format_version\":1,}", "manifest is not valid JSON: syntax error"},
      {"{", "manifest is not valid JSON: incomplete JSON"},
      {v.substr(0, v.size() - 1), "manifest is not valid JSON: incomplete JSON"},
      {"[]", "manifest is not a JSON object"},
      {"null", "manifest is not a JSON object"},
      {R"({"next_segment_id":1,"segments":[]})", "manifest field 'format_version' is missing"},
      {Replace(v, R"("format_version":1)", R"("format_version":2)"),
       "manifest field 'format_version' is 2; this build reads version 1 only"},
      {Replace(v, R"("format_version":1)", R"("format_version":"1")"),
       "manifest field 'format_version' must be an integer"},
      {Replace(v, R"("next_segment_id":3)", R"("next_segment_id":0)"),
       "manifest field 'next_segment_id' is out of range (0)"},
      {Replace(v, R"("next_segment_id":3)", R"("next_segment_id":2)"),
       "manifest field 'segments[1].id' is not less than next_segment_id (2)"},
      {Replace(v, R"("segments":[)", R"("segments":{"a":[)") + "}",
       "manifest field 'segments' must be an array"},
      {Replace(v, R"("segments":[{)", R"("segments":[7,{)"),
       "manifest field 'segments[0]' must be an object"},
      {Replace(v, R"("format_version":1,)", R"("format_version":1,"extra":true,)"),
       "manifest field 'extra' is not a field of a version-1 manifest"},
      {Replace(v, R"("file":"seg-1.parquet",)", ""),
       "manifest field 'segments[0].file' is missing"},
      {Replace(v, R"("seg-1.parquet")", R"("../../etc/passwd")"),
       "manifest field 'segments[0].file' is not a safe relative key: object key "
       "'../../etc/passwd' has a '..' segment"},
      {Replace(v, R"("seg-1.parquet")", R"("/abs.parquet")"),
       "manifest field 'segments[0].file' is not a safe relative key: object key '/abs.parquet' "
       "is absolute; it must be relative to the storage base"},
      {Replace(v, R"("seg-2.parquet")", R"("seg-1.parquet")"),
       "manifest field 'segments[1].file' repeats 'seg-1.parquet'"},
      {Replace(v, R"("id":2,)", R"("id":1,)"),
       "manifest field 'segments[1].id' is not greater than the previous segment's id (1)"},
      {Replace(v, R"("id":1,)", R"("id":0,)"),
       "manifest field 'segments[0].id' is out of range (0)"},
      {Replace(v, R"("row_count":10)", R"("row_count":-1)"),
       "manifest field 'segments[0].row_count' is out of range (-1)"},
      {Replace(v, R"("tombstones":2)", R"("tombstones":11)"),
       "manifest field 'segments[0].tombstones' is out of range (11)"},
      {Replace(v, R"("min_seq":5)", R"("min_seq":50)"),
       "manifest field 'segments[0].min_seq' is greater than max_seq"},
      {Replace(v, R"("row_count":10)", R"("row_count":10.5)"),
       "manifest field 'segments[0].row_count' must be an integer"},
      {Replace(v, R"("size_bytes":100)", R"("size_bytes":18446744073709551615)"),
       "manifest field 'segments[0].size_bytes' is out of range"},
      {Replace(v, R"("schema_version":1,"size_bytes":100)",
               R"("schema_version":4294967296,"size_bytes":100)"),
       "manifest field 'segments[0].schema_version' is out of range (4294967296)"},
      {Replace(v, R"("columns":[])", R"("columns":{})"),
       "manifest field 'segments[1].columns' must be an array"},
      {Replace(v, R"("column_id":1)", R"("column_id":-1)"),
       "manifest field 'segments[0].columns[0].column_id' is out of range (-1)"},
      {Replace(v, R"("name":"id")", R"("name":"")"),
       "manifest field 'segments[0].columns[0].name' is empty"},
      {Replace(v, R"("name":"id")", R"("name":5)"),
       "manifest field 'segments[0].columns[0].name' must be a string"},
      {Replace(v, R"({"int":1})", R"(1)"),
       "manifest field 'segments[0].columns[0].min' must be null or an object naming the "
       "value's kind"},
      {Replace(v, R"({"int":1})", R"({"integer":1})"),
       "manifest field 'segments[0].columns[0].min.integer' is not a value kind (int, double, "
       "text, text_base64, bytes)"},
      {Replace(v, R"({"int":1})", R"({"int":1,"text":"x"})"),
       "manifest field 'segments[0].columns[0].min' must have exactly one member (int, double, "
       "text, text_base64, bytes)"},
      {Replace(v, R"({"int":10})", R"({"int":"10"})"),
       "manifest field 'segments[0].columns[0].max.int' must be a 64-bit integer"},
      {Replace(v, R"({"int":10})", R"({"int":1.5})"),
       "manifest field 'segments[0].columns[0].max.int' must be a 64-bit integer"},
      {Replace(v, R"({"int":10})", R"({"double":1.5})"),
       "manifest field 'segments[0].columns[0].max.double' must be a string"},
      {Replace(v, R"({"int":10})", R"({"double":"1.5x"})"),
       "manifest field 'segments[0].columns[0].max.double' is not a number"},
      {Replace(v, R"({"int":10})", R"({"double":"1e999"})"),
       "manifest field 'segments[0].columns[0].max.double' is not a number"},
      {Replace(v, R"({"int":10})", R"({"double":""})"),
       "manifest field 'segments[0].columns[0].max.double' is not a number"},
      {Replace(v, R"({"int":10})", R"({"bytes":"aGk"})"),
       "manifest field 'segments[0].columns[0].max.bytes' is not valid base64"},
      {Replace(v, R"({"int":10})", R"({"bytes":"aG!="})"),
       "manifest field 'segments[0].columns[0].max.bytes' is not valid base64"},
      {Replace(v, R"({"int":10})", R"({"bytes":"aGl="})"),  // non-zero padding bits
       "manifest field 'segments[0].columns[0].max.bytes' is not valid base64"},
      {Replace(v, R"({"int":10})", R"({"text_base64":"a=b="})"),
       "manifest field 'segments[0].columns[0].max.text_base64' is not valid base64"},
      {Replace(v, R"("null_count":0)", R"("null_count":-3)"),
       "manifest field 'segments[0].columns[0].null_count' is out of range (-3)"},
      {Replace(v, R"("null_count":0})", R"("null_count":0,"avg":1})"),
       "manifest field 'segments[0].columns[0].avg' is not a field of a version-1 manifest"},
      {Replace(v, R"("columns":[])",
               R"("columns":[{"column_id":4,"name":"a","min":null,"max":null,"null_count":0},)"
               R"({"column_id":4,"name":"b","min":null,"max":null,"null_count":0}])"),
       "manifest field 'segments[1].columns[1].column_id' repeats column 4"},
  };
  ASSERT_GE(cases.size(), 10u);
  for (const CorruptCase& c : cases) {
    Result<Manifest> r = DecodeManifest(c.json);
    ASSERT_FALSE(r.ok()) << "accepted: " << c.json;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << c.json;
    EXPECT_EQ(r.status().message(), c.message) << c.json;
  }
}

}  // namespace
}  // namespace kalam::table
