// TopicDef: a topic's definition (partitions, retention, routes) as stored in the `system`
// partition, and the storage keys every topic concept uses (docs/topics.md "Storage"). This file
// is the one owner of those keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"
#include "sql/parser/topic_parser.h"

namespace kalam::topics {

// Most partitions a topic may have.
inline constexpr uint64_t kMaxTopicPartitions = 256;

// kNotFound "Not found: Topic '<id>' does not exist".
Status TopicNotFound(const std::string& topic_id);

using TopicNum = uint64_t;  // internal id: message keys; never reused, so a dropped topic's
                            // messages never mix with a new topic of the same name

// A route: changes `op` of table `table_id` append one message each (when `filter` matches).
struct Route {
  catalog::TableId table_id = 0;
  std::string table_name;  // "ns.table"
  sql::parser::TopicOp op = sql::parser::TopicOp::kInsert;
  sql::parser::PayloadMode payload = sql::parser::PayloadMode::kFull;
  std::optional<std::string> filter;  // the WHERE expression as written
  // The table's schema version the filter was compiled for (it is compiled for that version
  // again at startup, so a later ALTER TABLE never makes a stored route fail to load).
  uint32_t schema_version = 0;
};

struct TopicDef {
  TopicNum num = 0;
  std::string topic_id;  // "ns.name"
  uint32_t partitions = 1;
  int64_t retention_seconds = 604800;
  int64_t retention_max_bytes = 1073741824;
  std::vector<Route> routes;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;

  std::string ToJson() const;
  static Result<TopicDef> FromJson(std::string_view json);
  // system.topics' `routes` column.
  std::string RoutesJson() const;
};

// ---- keys -------------------------------------------------------------------------------------
// `system`: "tpc/<topic_id>" → TopicDef JSON.
std::string TopicDefKey(std::string_view topic_id);
inline constexpr std::string_view kTopicDefPrefix = "tpc/";
// `system`: "tpo/" · num(8B BE) · partition(4B BE) · group → last acked offset(8B) · updated ms(8B).
std::string GroupOffsetKey(TopicNum num, uint32_t partition, std::string_view group);
std::string GroupOffsetPrefix(TopicNum num);
bool ParseGroupOffsetKey(std::string_view key, TopicNum* num, uint32_t* partition,
                         std::string* group);
// `meta`: "tpn/" · num · partition → the partition's next offset (8B BE).
std::string NextOffsetKey(TopicNum num, uint32_t partition);
// `meta`: "tpl/" · num · partition → the partition's first retained offset (8B BE): offsets below
// it were cleared or expired.
std::string LowOffsetKey(TopicNum num, uint32_t partition);
// `meta`: "topic_next_num" → the next TopicNum (8B BE).
inline constexpr std::string_view kNextTopicNumKey = "topic_next_num";
// `topic`: num · partition · offset → message.
std::string MessageKey(TopicNum num, uint32_t partition, uint64_t offset);
bool ParseMessageKey(std::string_view key, TopicNum* num, uint32_t* partition, uint64_t* offset);
// A big-endian u64 value, or nullopt when `bytes` is not 8 bytes.
std::optional<uint64_t> ReadU64(std::string_view bytes);
std::string U64Bytes(uint64_t v);

}  // namespace kalam::topics
