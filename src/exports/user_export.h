// UserExport: builds one user's data export — the current rows (newest version of each row, no
// tombstones, no expired stream rows) of every USER and STREAM table at one read point, as
// `<ns>/<table>.parquet` and `<ns>/<table>.json` per table with rows, the files their FILE columns
// refer to as `<ns>/<table>/files/<sub>/<stored_name>`, plus README.json, in one ZIP
// (docs/export.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "files/file_service.h"
#include "storage/kv_store.h"
#include "table/stream_store.h"
#include "table/table_store.h"

namespace kalam::exports {

// What to export and as of when.
struct UserExportRequest {
  std::string user_id;
  std::string export_id;
  int64_t created_at_us = 0;  // README.json created_at
  int64_t now_ms = 0;         // stream rows expired at this time are left out
  // The read point: hot rows as of `snapshot`, cold versions with `_seq` ≤ `read_seq`.
  std::shared_ptr<const storage::KvSnapshot> snapshot;
  int64_t read_seq = 0;
  // Asked between tables; true stops the build with kUnavailable "Export cancelled".
  std::function<bool()> cancelled;
};

// What the archive holds.
struct UserExportArchive {
  std::string zip;
  size_t tables = 0;           // USER and STREAM tables listed in README.json
  size_t tables_with_rows = 0;
  uint64_t rows = 0;
};

// Builds the archive from `tables` (every table of the catalog snapshot; only USER and STREAM
// ones are read, in the user's scope only). The file of each FileRef in a FILE column of an
// exported row is read from the table's storage in the user's scope only (`files`; nullptr: no
// attachments, every FileRef is listed as missing). Thread-safe over thread-safe stores. Errors:
// a read or encode failure (the table is named; a file that is not there is listed as missing,
// not an error), kResourceExhausted past the ZIP limits (4 GiB).
Result<UserExportArchive> BuildUserExport(
    const std::vector<std::shared_ptr<const catalog::TableDef>>& tables,
    const table::TableStore& store, const table::StreamStore& streams,
    files::FileService* files, const UserExportRequest& request);

// True when `segment` can be one path segment of an export file (a user id, an export id): not
// empty, no "..", '/', '\\' or NUL — the same rule the download route applies.
bool IsSafePathSegment(std::string_view segment);

}  // namespace kalam::exports
