// Event encoding of live queries: the JSON text of a `change` event (PROTOCOL.md §4) for one
// subscription's projection, split into the per-subscriber head and the body every subscriber
// with that projection shares.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "table/change_record.h"

namespace kalam::live {

// What a change is to one subscription, after its filter saw the row before and after.
enum class ChangeEventKind {
  kInsert,  // an insert, or an update that moved the row into the filter
  kUpdate,  // an update of a row that matches before and after
  kDelete,  // a delete, or an update that moved the row out of the filter
};

// `{"type":"change","subscription_id":<id>` — the start of a change event, up to its body.
std::string ChangeEventHead(std::string_view subscription_id);

// The rest of the change event `rec` makes as `kind` for a subscription projecting `columns`
// (lower-case user columns, in order) of `table` (the record's TableDef): `,"change_type":…,
// "rows"|"old_values":[…]}`. Rows are objects keyed by column name, `_seq` as a string; an
// update carries PK + `_seq` + the non-null projected columns in `rows` and PK + old `_seq` + the
// old values of the projected columns that changed in `old_values`; a delete carries the row as
// the client has it, with `"_deleted":true`. A column that no longer exists is left out.
std::string ChangeEventBody(const catalog::TableDef& table, const std::vector<std::string>& columns,
                            const table::ChangeRecord& rec, ChangeEventKind kind);

}  // namespace kalam::live
