// StatementResult and SqlResponse: what executing a request produced, before the API layer turns
// it into the JSON of PROTOCOL.md §3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace kalam::sql {

struct ResultColumn {
  std::string name;
  std::string data_type_json;      // e.g. "\"BigInt\"" or "{\"Embedding\":3}"
  std::vector<std::string> flags;  // ⊆ pk, nn, uq
};

enum class DmlKind : uint8_t { kNone, kInserted, kUpdated, kDeleted };

// One entry of `results[]`.
struct StatementResult {
  std::vector<ResultColumn> schema;  // empty = omitted
  std::string rows_json;             // rows as JSON arrays joined by ',' (no outer brackets)
  uint64_t row_count = 0;
  std::optional<std::string> message;
  bool truncated = false;
  DmlKind dml = DmlKind::kNone;  // DML results are summed per kind at the end of a batch
  std::string as_user;           // the effective user of the statement (EXECUTE AS target)
};

// The outcome of one SQL request.
struct SqlResponse {
  Status error;                       // OK on success
  std::string error_details;          // the offending statement (shown to dba/system only)
  std::string error_code;             // a wire code that overrides the Status mapping
                                      // (EMPTY_SQL, PARAMS_WITH_BATCH); empty = mapped
  std::vector<StatementResult> results;
  std::string as_user;                // the caller; a result's own as_user wins
};

}  // namespace kalam::sql
