// Commit-group payload encoding (format 1).
#include "replication/group_codec.h"

#include <algorithm>
#include <optional>

#include "common/value_codec.h"
#include "table/keys.h"

namespace kalam::replication {

namespace {

void PutBytes(std::string* out, std::string_view bytes) {
  PutVarint64(out, bytes.size());
  out->append(bytes);
}

void PutValues(std::string* out, const std::vector<Value>& values) {
  PutVarint64(out, values.size());
  for (const Value& v : values) EncodeValue(v, out);
}

// Reads from the front of a payload; every failure names what was being read.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  Status U64(uint64_t* v, const char* what) {
    if (!GetVarint64(&in_, v)) return Bad(std::string("truncated ") + what);
    return Status::OK();
  }
  Status I64(int64_t* v, const char* what) {
    uint64_t raw = 0;
    KALAM_RETURN_IF_ERROR(U64(&raw, what));
    *v = ZigZagDecode64(raw);
    return Status::OK();
  }
  Status Byte(uint8_t* v, const char* what) {
    if (in_.empty()) return Bad(std::string("truncated ") + what);
    *v = static_cast<uint8_t>(in_.front());
    in_.remove_prefix(1);
    return Status::OK();
  }
  Status Bytes(std::string_view* v, const char* what) {
    uint64_t length = 0;
    KALAM_RETURN_IF_ERROR(U64(&length, what));
    if (length > in_.size()) return Bad(std::string("truncated ") + what);
    *v = in_.substr(0, length);
    in_.remove_prefix(length);
    return Status::OK();
  }
  // A count of items each at least one byte long: larger than the bytes left means corruption
  // (and no huge reserve is attempted).
  Status Count(uint64_t* n, const char* what) {
    KALAM_RETURN_IF_ERROR(U64(n, what));
    if (*n > in_.size()) return Bad(std::string("impossible ") + what);
    return Status::OK();
  }
  Status Values(std::vector<Value>* values, const char* what) {
    uint64_t n = 0;
    KALAM_RETURN_IF_ERROR(Count(&n, what));
    values->reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      auto v = DecodeValue(&in_);
      if (!v.ok()) return Bad(std::string("bad value in ") + what + ": " + v.status().message());
      values->push_back(std::move(v).value());
    }
    return Status::OK();
  }
  bool empty() const { return in_.empty(); }
  size_t left() const { return in_.size(); }

  static Status Bad(const std::string& why) {
    return Status::Corruption("Replicated commit group: " + why);
  }

 private:
  std::string_view in_;
};

}  // namespace

std::string EncodeCommitGroup(const storage::WriteBatch& batch,
                              const std::vector<table::ChangeRecord>& records, int64_t max_seq) {
  std::string out;
  out.reserve(16 + batch.bytes() + batch.size() * 6 + records.size() * 32);
  out.push_back(static_cast<char>(kCommitGroupFormat));
  PutVarint64(&out, ZigZagEncode64(max_seq));
  PutVarint64(&out, batch.size());
  for (const auto& op : batch.ops()) {
    out.push_back(static_cast<char>(op.kind));
    out.push_back(static_cast<char>(op.partition));
    PutBytes(&out, op.key);
    PutBytes(&out, op.value);
  }
  PutVarint64(&out, records.size());
  for (const auto& rec : records) {
    PutVarint64(&out, rec.table->table_id);
    PutVarint64(&out, rec.table->schema_version);
    PutBytes(&out, rec.scope);
    out.push_back(static_cast<char>(rec.kind));
    PutVarint64(&out, ZigZagEncode64(rec.seq));
    PutVarint64(&out, ZigZagEncode64(rec.previous_seq));
    PutValues(&out, rec.values);
    PutValues(&out, rec.old_values);
  }
  return out;
}

namespace {

// The table a data key (or a cold manifest key of `meta`, or the begin of a range) belongs to;
// nullopt for a key of no table (`last_seq`, the applied index, ...).
std::optional<catalog::TableId> TableOfKey(storage::Partition partition, std::string_view key) {
  catalog::TableId table = 0;
  table::Scope scope;
  if (partition == storage::Partition::kMeta) {
    if (table::ParseColdManifestKey(key, &table, &scope)) return table;
    return std::nullopt;
  }
  if (table::ConsumeScopePrefix(&key, &table, &scope)) return table;
  return std::nullopt;
}

// `batch` without the ops on keys of `tables` (sorted).
storage::WriteBatch WithoutTables(const storage::WriteBatch& batch,
                                  const std::vector<catalog::TableId>& tables) {
  storage::WriteBatch out;
  for (const auto& op : batch.ops()) {
    auto table = TableOfKey(op.partition, op.key);
    if (table && std::binary_search(tables.begin(), tables.end(), *table)) continue;
    switch (op.kind) {
      case storage::WriteBatch::OpKind::kPut: out.Put(op.partition, op.key, op.value); break;
      case storage::WriteBatch::OpKind::kDelete: out.Delete(op.partition, op.key); break;
      case storage::WriteBatch::OpKind::kDeleteRange:
        out.DeleteRange(op.partition, op.key, op.value);
        break;
    }
  }
  return out;
}

}  // namespace

Result<CommitGroup> DecodeCommitGroup(std::string_view payload, const TableResolver& resolve) {
  Reader in(payload);
  uint8_t format = 0;
  KALAM_RETURN_IF_ERROR(in.Byte(&format, "format"));
  if (format != kCommitGroupFormat) {
    return Reader::Bad("format " + std::to_string(format) + "; this server reads format " +
                       std::to_string(kCommitGroupFormat));
  }
  CommitGroup group;
  KALAM_RETURN_IF_ERROR(in.I64(&group.max_seq, "max_seq"));
  uint64_t ops = 0;
  KALAM_RETURN_IF_ERROR(in.Count(&ops, "op count"));
  for (uint64_t i = 0; i < ops; ++i) {
    uint8_t kind = 0, partition = 0;
    std::string_view key, value;
    KALAM_RETURN_IF_ERROR(in.Byte(&kind, "op kind"));
    KALAM_RETURN_IF_ERROR(in.Byte(&partition, "op partition"));
    KALAM_RETURN_IF_ERROR(in.Bytes(&key, "op key"));
    KALAM_RETURN_IF_ERROR(in.Bytes(&value, "op value"));
    if (partition >= storage::kPartitionCount) {
      return Reader::Bad("unknown partition " + std::to_string(partition));
    }
    const auto p = static_cast<storage::Partition>(partition);
    switch (static_cast<storage::WriteBatch::OpKind>(kind)) {
      case storage::WriteBatch::OpKind::kPut: group.batch.Put(p, key, value); break;
      case storage::WriteBatch::OpKind::kDelete:
        if (!value.empty()) return Reader::Bad("a delete op carries a value");
        group.batch.Delete(p, key);
        break;
      case storage::WriteBatch::OpKind::kDeleteRange: group.batch.DeleteRange(p, key, value); break;
      default: return Reader::Bad("unknown op kind " + std::to_string(kind));
    }
  }
  uint64_t records = 0;
  KALAM_RETURN_IF_ERROR(in.Count(&records, "record count"));
  group.records.reserve(records);
  for (uint64_t i = 0; i < records; ++i) {
    table::ChangeRecord rec;
    uint64_t table_id = 0, version = 0;
    std::string_view scope;
    uint8_t kind = 0;
    KALAM_RETURN_IF_ERROR(in.U64(&table_id, "record table id"));
    KALAM_RETURN_IF_ERROR(in.U64(&version, "record schema version"));
    KALAM_RETURN_IF_ERROR(in.Bytes(&scope, "record scope"));
    KALAM_RETURN_IF_ERROR(in.Byte(&kind, "record change kind"));
    if (kind > static_cast<uint8_t>(table::ChangeKind::kDelete)) {
      return Reader::Bad("unknown change kind " + std::to_string(kind));
    }
    KALAM_RETURN_IF_ERROR(in.I64(&rec.seq, "record seq"));
    KALAM_RETURN_IF_ERROR(in.I64(&rec.previous_seq, "record previous seq"));
    KALAM_RETURN_IF_ERROR(in.Values(&rec.values, "record values"));
    KALAM_RETURN_IF_ERROR(in.Values(&rec.old_values, "record old values"));
    if (version > UINT32_MAX) return Reader::Bad("schema version out of range");
    auto def = resolve(table_id, static_cast<uint32_t>(version));
    if (!def.ok() && def.status().code() == StatusCode::kTableNotFound) {
      if (std::find(group.skipped_tables.begin(), group.skipped_tables.end(), table_id) ==
          group.skipped_tables.end()) {
        group.skipped_tables.push_back(table_id);
      }
      continue;
    }
    if (!def.ok()) {
      return def.status().WithPrefix("Replicated commit group names table " +
                                     std::to_string(table_id) + " version " +
                                     std::to_string(version) + ": ");
    }
    rec.table = std::move(def).value();
    rec.scope = std::string(scope);
    rec.kind = static_cast<table::ChangeKind>(kind);
    group.records.push_back(std::move(rec));
  }
  if (!in.empty()) return Reader::Bad(std::to_string(in.left()) + " trailing bytes");
  if (!group.skipped_tables.empty()) {
    std::sort(group.skipped_tables.begin(), group.skipped_tables.end());
    group.batch = WithoutTables(group.batch, group.skipped_tables);
  }
  return group;
}

}  // namespace kalam::replication
