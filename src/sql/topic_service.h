// TopicService: what the SQL layer may ask of the topic service (which sits above it): run a
// parsed topic statement, tell whether a table feeds a topic (DROP TABLE refuses then), and list
// topics and committed group offsets for system.topics / system.topic_offsets. Implemented by
// topics::TopicService.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"
#include "sql/access.h"
#include "sql/parser/topic_parser.h"
#include "sql/statement_result.h"

namespace kalam::sql {

// One row of system.topics (timestamps in ms since the epoch).
struct TopicInfo {
  std::string topic_id;  // "ns.name"
  uint32_t partitions = 1;
  int64_t retention_seconds = 0;
  int64_t retention_max_bytes = 0;
  std::string routes_json;  // [{"table_id":"ns.t","op":"insert",…}]
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// One row of system.topic_offsets.
struct TopicOffsetInfo {
  std::string topic_id;
  std::string group_id;
  uint32_t partition_id = 0;
  int64_t last_acked_offset = 0;
  int64_t updated_at_ms = 0;
};

// What the executor resolved for a topic statement.
struct TopicStatementContext {
  Caller caller;
  std::string topic_id;  // "ns.name", the namespace checked to exist for CREATE
  // ADD/DROP SOURCE: the source table, resolved in the request's namespace (null otherwise).
  std::shared_ptr<const catalog::TableDef> source;
};

// Thread-safe.
class TopicService {
 public:
  virtual ~TopicService() = default;
  // Runs a topic statement (permissions already checked by the executor) and returns its result
  // (a message, or CONSUME's/ACK's rows).
  virtual Result<StatementResult> Run(const parser::TopicStatement& stmt,
                                      const TopicStatementContext& ctx) = 0;
  // The topics with a route from `table` ("ns.name"), sorted; empty when none.
  virtual std::vector<std::string> TopicsWithSource(catalog::TableId table) const = 0;
  virtual std::vector<TopicInfo> ListTopics() const = 0;
  virtual std::vector<TopicOffsetInfo> ListOffsets() const = 0;
};

}  // namespace kalam::sql
