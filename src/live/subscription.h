// LiveManager::Sub: one subscription's compiled query, sink and snapshot state, shared by the
// files of LiveManager (registry, fan-out, snapshot); not part of live's interface.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "live/live_manager.h"
#include "sql/parser/lexer.h"

namespace kalam::live {

struct LiveManager::Sub {
  std::string live_id;
  std::string subscription_id;
  std::shared_ptr<LiveSink> sink;
  uint64_t conn_id = 0;
  sql::Caller caller;
  std::shared_ptr<const catalog::TableDef> table;  // as subscribed; changes may carry newer versions
  std::string scope;
  std::string ns, table_name;
  std::vector<std::string> columns;  // projected user columns (lower case), in order
  std::string projection_key;        // `columns` as one string: equal keys, equal bodies
  std::shared_ptr<const FilterEngine::Filter> filter;
  std::string query, where_sql;
  SubscribeOptions options;

  // Snapshot state (guarded by LiveManager::mu_).
  bool loading = true;
  commit::CommitPipeline::ReadPoint read_point;
  int64_t cursor_seq = 0;     // the snapshot (or resume) has been read up to this `_seq`
  // `options.from` (0: none). The client already has every change up to it, possibly from
  // another cluster node that had applied more than this one's read point: changes this node
  // applies later with a `_seq` at or below it are not sent again.
  int64_t resume_from = 0;
  int64_t delivered_seq = 0;  // the largest `_seq` handed to the client so far (0: none)
  int batch_num = 0;
  bool awaiting_next = false;
  std::vector<table::ChangeRecord> held;  // changes committed while loading

  bool lagging = false;  // told SUBSCRIBER_LAGGING; being dropped (guarded by mu_)
  uint64_t changes = 0;
  int64_t created_at_us = 0;
  int64_t last_update_us = 0;
};

// `name` as an SQL identifier in double quotes (embedded quotes doubled).
inline std::string QuoteIdentifier(std::string_view name) {
  return sql::parser::QuoteToken(name, '"');
}

}  // namespace kalam::live
