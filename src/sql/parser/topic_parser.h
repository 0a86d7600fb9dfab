// Parsing of the topic statements (CREATE/DROP/CLEAR/ALTER TOPIC, CONSUME, ACK; docs/topics.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "sql/parser/ast.h"
#include "sql/parser/splitter.h"

namespace kalam::sql::parser {

// The row change a topic route listens to.
enum class TopicOp : uint8_t { kInsert, kUpdate, kDelete };
// "insert" / "update" / "delete" (system.topics, SQL CONSUME's `op`).
std::string_view TopicOpName(TopicOp op);
// "Insert" / "Update" / "Delete" (messages, HTTP consume's `op`).
std::string_view TopicOpTitle(TopicOp op);

// What a route's message payload carries (docs/topics.md).
enum class PayloadMode : uint8_t { kFull, kKey, kDiff };
std::string_view PayloadModeName(PayloadMode mode);  // "full" / "key" / "diff"

struct TopicStatement {
  enum class Kind : uint8_t {
    kCreate,      // CREATE TOPIC t [PARTITIONS n]
    kDrop,        // DROP TOPIC t
    kClear,       // CLEAR TOPIC t
    kAddSource,   // ALTER TOPIC t ADD SOURCE tbl ON op [WHERE …] [WITH (payload = …)]
    kDropSource,  // ALTER TOPIC t DROP SOURCE tbl ON op
    kSetOptions,  // ALTER TOPIC t SET (retention_seconds = n, retention_max_bytes = n)
    kConsume,     // CONSUME FROM t [GROUP 'g'] [FROM EARLIEST|LATEST|n] [LIMIT n] [PARTITION p]
    kAck,         // ACK t GROUP 'g' [PARTITION p] UPTO OFFSET n
  };
  enum class Start : uint8_t { kDefault, kEarliest, kLatest, kOffset };

  Kind kind = Kind::kCreate;
  // The topic as written: `ns.name` (ns empty when unqualified; the executor refuses that).
  std::string topic_ns;
  std::string topic_name;
  // CREATE: PARTITIONS (default 1; 0 is refused by the executor).
  uint64_t partitions = 1;
  // ADD/DROP SOURCE.
  QualifiedName source;
  TopicOp op = TopicOp::kInsert;
  // ADD SOURCE: the WHERE expression as its own statement (its text is what system.topics
  // shows); nullopt without WHERE.
  std::optional<SqlStatement> where;
  PayloadMode payload = PayloadMode::kFull;
  // SET: the options given.
  std::optional<int64_t> retention_seconds;
  std::optional<int64_t> retention_max_bytes;
  // CONSUME / ACK.
  std::optional<std::string> group;
  Start start = Start::kDefault;
  uint64_t start_offset = 0;
  uint64_t limit = 100;
  std::optional<uint32_t> partition;
  uint64_t upto_offset = 0;
};

// Parses one topic statement (classified as kCreateTopic … kAck). Fails with kInvalidSql and the
// texts of docs/topics.md ("Partition count must be a positive integer", "Invalid operation 'X'.
// Expected INSERT, UPDATE, or DELETE", "ACK requires GROUP clause", …).
Result<TopicStatement> ParseTopicStatement(const SqlStatement& stmt);

}  // namespace kalam::sql::parser
