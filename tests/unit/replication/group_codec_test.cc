// The replicated commit-group encoding: round trip, and every kind of corruption refused.
#include "replication/group_codec.h"

#include <gtest/gtest.h>

namespace kalam::replication {
namespace {

std::shared_ptr<const catalog::TableDef> Table(catalog::TableId id, uint32_t version) {
  auto d = std::make_shared<catalog::TableDef>();
  d->table_id = id;
  d->schema_version = version;
  d->namespace_id = "ns";
  d->table_name = "t" + std::to_string(id);
  return d;
}

class GroupCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    batch_.Put(storage::Partition::kRows, "row\x00key", std::string("v\x00\xff", 3));
    batch_.Put(storage::Partition::kPk, "pk", "");
    batch_.Delete(storage::Partition::kTopic, "gone");
    batch_.DeleteRange(storage::Partition::kStream, "a", "b");
    batch_.Put(storage::Partition::kMeta, "last_seq", "12345678");
    table::ChangeRecord insert;
    insert.table = t7_;
    insert.scope = "user-1";
    insert.kind = table::ChangeKind::kInsert;
    insert.seq = 1000;
    insert.values = {Value::Int(-5), Value::Text("héllo"), Value::Null(), Value::Double(2.5),
                     Value::Bytes(std::string("\x00\x01", 2))};
    table::ChangeRecord update = insert;
    update.table = t9_;
    update.scope = "";
    update.kind = table::ChangeKind::kUpdate;
    update.seq = 1001;
    update.previous_seq = 1000;
    update.old_values = {Value::Int(-5), Value::Text("old")};
    table::ChangeRecord del = update;
    del.kind = table::ChangeKind::kDelete;
    del.seq = 1002;
    del.old_values.clear();
    records_ = {insert, update, del};
  }

  TableResolver Resolver() {
    return [this](catalog::TableId id, uint32_t version)
               -> Result<std::shared_ptr<const catalog::TableDef>> {
      if (id == 7 && version == 1) return t7_;
      if (id == 9 && version == 3) return t9_;
      return Status::NotFound("no such table");
    };
  }

  std::shared_ptr<const catalog::TableDef> t7_ = Table(7, 1);
  std::shared_ptr<const catalog::TableDef> t9_ = Table(9, 3);
  storage::WriteBatch batch_;
  std::vector<table::ChangeRecord> records_;
};

TEST_F(GroupCodecTest, RoundTrips) {
  const std::string bytes = EncodeCommitGroup(batch_, records_, 1002);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), kCommitGroupFormat);
  auto group = DecodeCommitGroup(bytes, Resolver());
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_EQ(group->max_seq, 1002);
  ASSERT_EQ(group->batch.size(), batch_.size());
  for (size_t i = 0; i < batch_.size(); ++i) {
    const auto& a = batch_.ops()[i];
    const auto& b = group->batch.ops()[i];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.partition, b.partition) << i;
    EXPECT_EQ(a.key, b.key) << i;
    EXPECT_EQ(a.value, b.value) << i;
  }
  ASSERT_EQ(group->records.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& a = records_[i];
    const auto& b = group->records[i];
    EXPECT_EQ(a.table.get(), b.table.get()) << i;  // resolved to the replica's own definition
    EXPECT_EQ(a.scope, b.scope) << i;
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.seq, b.seq) << i;
    EXPECT_EQ(a.previous_seq, b.previous_seq) << i;
    EXPECT_EQ(a.values, b.values) << i;
    EXPECT_EQ(a.old_values, b.old_values) << i;
  }
  // The empty group too.
  auto empty = DecodeCommitGroup(EncodeCommitGroup({}, {}, 0), Resolver());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->batch.empty());
  EXPECT_TRUE(empty->records.empty());
}

TEST_F(GroupCodecTest, EveryTruncationIsCorruption) {
  const std::string bytes = EncodeCommitGroup(batch_, records_, 1002);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto group = DecodeCommitGroup(std::string_view(bytes).substr(0, n), Resolver());
    ASSERT_FALSE(group.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(group.status().code(), StatusCode::kCorruption) << n;
    EXPECT_EQ(group.status().message().rfind("Replicated commit group: ", 0), 0u)
        << group.status().message();
  }
}

TEST_F(GroupCodecTest, RefusesWhatItCannotTrust) {
  std::string bytes = EncodeCommitGroup(batch_, records_, 1002);
  auto decode = [&](const std::string& b) { return DecodeCommitGroup(b, Resolver()).status(); };

  std::string other_format = bytes;
  other_format[0] = 2;
  EXPECT_EQ(decode(other_format).message(),
            "Replicated commit group: format 2; this server reads format 1");

  EXPECT_EQ(decode(bytes + "x").message(), "Replicated commit group: 1 trailing bytes");

  // format, max_seq (2 bytes: 1002 zigzagged), op count, then the first op's kind and partition.
  ASSERT_EQ(static_cast<uint8_t>(bytes[4]), 0u);  // kPut
  std::string bad_kind = bytes;
  bad_kind[4] = 9;
  EXPECT_EQ(decode(bad_kind).message(), "Replicated commit group: unknown op kind 9");
  std::string bad_partition = bytes;
  bad_partition[5] = 6;
  EXPECT_EQ(decode(bad_partition).message(), "Replicated commit group: unknown partition 6");

  storage::WriteBatch one_op;
  one_op.Put(storage::Partition::kRows, "k", "v");
  std::string huge_count = EncodeCommitGroup(one_op, {}, 1);
  ASSERT_EQ(huge_count.size(), 10u);
  huge_count[2] = 0x7f;  // 127 ops in the 7 bytes left
  EXPECT_EQ(decode(huge_count).message(), "Replicated commit group: impossible op count");

  // A table this replica does not know.
  std::vector<table::ChangeRecord> unknown = {records_[0]};
  unknown[0].table = Table(8, 1);
  Status s = decode(EncodeCommitGroup({}, unknown, 1));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "Replicated commit group names table 8 version 1: no such table");

  // A change kind beyond delete.
  std::vector<table::ChangeRecord> one = {records_[0]};
  one[0].values.clear();
  std::string rec = EncodeCommitGroup({}, one, 1);
  // format, max_seq, op count 0, record count 1, table id, version, scope length 6 + "user-1",
  // then the change kind.
  const size_t kind_at = 1 + 1 + 1 + 1 + 1 + 1 + 1 + 6;
  ASSERT_EQ(static_cast<uint8_t>(rec[kind_at]), 0u);
  rec[kind_at] = 3;
  EXPECT_EQ(decode(rec).message(), "Replicated commit group: unknown change kind 3");

  // A bad value cell (unknown tag).
  one[0].values = {Value::Int(1)};
  std::string cell = EncodeCommitGroup({}, one, 1);
  // ... kind, seq (2 bytes: 1000 zigzagged), previous seq, value count, then the cell's tag.
  const size_t tag_at = kind_at + 1 + 2 + 1 + 1;
  cell[tag_at] = 0x7e;
  Status bad_cell = decode(cell);
  EXPECT_EQ(bad_cell.code(), StatusCode::kCorruption);
  EXPECT_EQ(bad_cell.message().rfind("Replicated commit group: bad value in record values: ", 0),
            0u)
      << bad_cell.message();
}

}  // namespace
}  // namespace kalam::replication
