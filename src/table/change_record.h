// ChangeRecord: one committed row change, as the commit pipeline publishes it to live queries and
// flush accounting.
#pragma once

#include <memory>
#include <vector>

#include "catalog/table_def.h"
#include "common/value.h"
#include "table/keys.h"
#include "table/write_set.h"

namespace kalam::table {

struct ChangeRecord {
  std::shared_ptr<const catalog::TableDef> table;
  Scope scope;
  ChangeKind kind = ChangeKind::kInsert;
  int64_t seq = 0;
  int64_t previous_seq = 0;        // update/delete: _seq of the replaced version
  std::vector<Value> values;       // insert/update: new row; delete: the deleted row
  std::vector<Value> old_values;   // update: the previous row
};

}  // namespace kalam::table
