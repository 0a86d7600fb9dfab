// rocksdb::Status → kalam::Status. Every RocksDB error in KalamDB passes through here.
#include "storage/rocks_status.h"

#include <string>

namespace kalam::storage {
namespace {

StatusCode CodeFor(const rocksdb::Status& s) {
  switch (s.code()) {
    case rocksdb::Status::kOk: return StatusCode::kOk;
    case rocksdb::Status::kNotFound: return StatusCode::kNotFound;
    case rocksdb::Status::kCorruption: return StatusCode::kCorruption;
    case rocksdb::Status::kInvalidArgument: return StatusCode::kInvalidArgument;
    case rocksdb::Status::kIOError: return StatusCode::kIoError;
    case rocksdb::Status::kIncomplete:
    case rocksdb::Status::kShutdownInProgress:
    case rocksdb::Status::kTimedOut: return StatusCode::kUnavailable;
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain: return StatusCode::kConflict;
    case rocksdb::Status::kAborted: return StatusCode::kFailedPrecondition;
    default: return StatusCode::kInternal;
  }
}

}  // namespace

Status FromRocksStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  std::string message(what);
  message += " failed: ";
  message += s.ToString();
  return Status(CodeFor(s), std::move(message));
}

Status FromRocksOpenStatus(const rocksdb::Status& s, std::string_view path) {
  if (s.ok()) return Status::OK();
  std::string reason = s.ToString();
  if (s.IsCorruption()) {
    return Status::Corruption("Data directory '" + std::string(path) + "' is damaged: " + reason +
                              ". Restore it from a backup.");
  }
  std::string message = "Cannot open data directory '" + std::string(path) + "': " + reason;
  // RocksDB reports a held LOCK file as "While lock file: <dir>/LOCK: ..." (another process) or
  // "lock hold by current process" (this process already opened it).
  if (s.IsIOError() && (reason.find("lock file") != std::string::npos ||
                        reason.find("lock hold") != std::string::npos)) {
    message += ". Another KalamDB process is probably using this directory; stop it or choose "
               "another data path.";
  }
  return Status::IoError(std::move(message));
}

}  // namespace kalam::storage
