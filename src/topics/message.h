// Topic messages: the stored envelope (docs/topics.md "Message envelope") and how a committed row
// change becomes one — payload modes, message key, partition choice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sql/parser/topic_parser.h"
#include "table/change_record.h"

namespace kalam::topics {

// One message as stored in the `topic` partition (its key holds topic, partition and offset).
struct Message {
  std::optional<std::string> key;      // the source row's PK as text; null without a PK
  std::string payload;                 // UTF-8 JSON
  int64_t timestamp_ms = 0;            // publish (commit) time
  std::optional<std::string> user_id;  // the row's scope user (USER/STREAM tables)
  sql::parser::TopicOp op = sql::parser::TopicOp::kInsert;
  int64_t seq = 0;  // the row version's `_seq`

  std::string Encode() const;
  static Result<Message> Decode(std::string_view bytes);
};

// The message key of a change: the PK value as text (a JSON string's value, else the JSON text of
// the value, as PROTOCOL §5 encodes it); nullopt when the table has no primary key.
std::optional<std::string> MessageKeyText(const table::ChangeRecord& rec);

// The payload of `rec` in `mode` (docs/topics.md "Payloads"). `op` is the route's operation.
std::string BuildPayload(const table::ChangeRecord& rec, sql::parser::PayloadMode mode);

// The partition of a message: FNV-1a 64 of the key text (of the `_seq` as decimal text without a
// key) modulo `partitions` (≥ 1). Deterministic across restarts and builds.
uint32_t PartitionFor(const std::optional<std::string>& key, int64_t seq, uint32_t partitions);

}  // namespace kalam::topics
