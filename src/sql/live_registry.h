// LiveRegistry: what the SQL layer may ask of the live-query service (which sits above it):
// subscriptions on a table (DROP TABLE refuses while any exist), `system.live` rows, and
// KILL LIVE QUERY. Implemented by live::LiveManager.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"

namespace kalam::sql {

// One row of system.live.
struct LiveQueryInfo {
  std::string live_id;  // "<user>-<connection>-<subscription>"
  std::string connection_id;
  std::string subscription_id;
  std::string namespace_id;
  std::string table_name;
  std::string user_id;
  std::string query;
  std::string options_json;
  std::string status;  // "loading" or "active"
  int64_t created_at_us = 0;
  int64_t last_update_us = 0;
  uint64_t changes = 0;  // change events delivered
  std::string node_id;
};

// Thread-safe.
class LiveRegistry {
 public:
  virtual ~LiveRegistry() = default;
  virtual size_t CountOnTable(catalog::TableId table) const = 0;
  virtual std::vector<LiveQueryInfo> List() const = 0;
  // Closes one subscription (its client gets an error event). kNotFound if none has that id.
  virtual Status Kill(std::string_view live_id) = 0;
};

}  // namespace kalam::sql
