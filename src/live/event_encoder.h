// Event encoding of live queries (PROTOCOL.md §4): the JSON text of a `change` event for one
// subscription's projection, split into the per-subscriber head and the body every subscriber
// with that projection shares, and of the snapshot messages (subscription_ack,
// initial_data_batch, batch_control).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "sql/statement_result.h"
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

// `{"batch_num":…,"has_more":…,"status":…,"last_seq_id":…}`. status is `loading` (batch 0 with
// more to come), `loading_batch` (a later batch with more to come) or `ready`; last_seq_id is
// null when nullopt.
std::string BatchControlJson(int batch_num, bool has_more, std::optional<int64_t> last_seq_id);

// `{"type":"subscription_ack","subscription_id":…,"total_rows":…,"batch_control":…,"schema":[…]}`
// with the first `columns` entries of `schema` (name, data_type, index, flags when any).
std::string SubscriptionAckJson(std::string_view subscription_id, uint64_t total_rows,
                                const std::string& batch_control,
                                const std::vector<sql::ResultColumn>& schema, size_t columns);

// `{"type":"initial_data_batch","subscription_id":…,"rows":[<rows>],"batch_control":…}`; `rows`
// is the comma-separated row objects.
std::string InitialDataBatchJson(std::string_view subscription_id, const std::string& rows,
                                 const std::string& batch_control);

}  // namespace kalam::live
