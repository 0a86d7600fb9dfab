// Conversion of rocksdb::Status into kalam::Status: the one place where RocksDB errors become
// KalamDB errors (STYLE.md "Errors are values").
#pragma once

#include <string_view>

#include <rocksdb/status.h>

#include "common/status.h"

namespace kalam::storage {

// Converts the outcome of a RocksDB call. OK stays OK; otherwise the code follows the kind of
// failure (IOError → kIoError, Corruption → kCorruption, InvalidArgument → kInvalidArgument,
// NotFound → kNotFound, ShutdownInProgress/TimedOut/Incomplete → kUnavailable,
// Busy/TryAgain → kConflict, Aborted → kFailedPrecondition, anything else → kInternal) and the
// message reads "<what> failed: <RocksDB's reason>". `what` names the operation for a person
// ("Write to storage"). Thread-safe (pure function).
Status FromRocksStatus(const rocksdb::Status& s, std::string_view what);

// Converts the failure of DB::Open on `path`: kIoError "Cannot open data directory '<path>':
// <reason>" (with a hint when another process holds the directory's lock), or kCorruption
// "Data directory '<path>' is damaged: <reason>" when RocksDB found corrupt files. OK stays OK.
// Thread-safe (pure function).
Status FromRocksOpenStatus(const rocksdb::Status& s, std::string_view path);

}  // namespace kalam::storage
