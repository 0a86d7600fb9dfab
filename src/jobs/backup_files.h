// File steps shared by the database backup (jobs/backup.*) and the namespace backup
// (jobs/namespace_backup.*): links that become private copies, synced writes, whole-file reads.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam::jobs {

// kIoError "<what>: <reason>".
Status BackupIoError(const std::string& what, const std::error_code& ec);

// `dir` absent, or an empty directory.
Result<bool> IsAbsentOrEmpty(const std::filesystem::path& dir);

// The directory a backup is written into: `dir_text` made absolute, which must not exist or be
// empty ("Already exists: Backup directory '<dir>' is not empty; back up into a new directory"),
// created with its parents (kIoError naming it).
Result<std::filesystem::path> CreateBackupDirectory(const std::string& dir_text);

// Links `from` to `to` (creating parents), copying when a link is impossible (another file
// system, or links not allowed).
Status LinkOrCopy(const std::filesystem::path& from, const std::filesystem::path& to);

// Replaces a hard-linked file by a copy of its own, so that the backup shares no inode with the
// live data (a damaged live file must not damage the backup, and the reverse).
Status Unshare(const std::filesystem::path& file);

// Writes `data` to `path` (replacing it) and fsyncs it.
Status WriteFileSynced(const std::filesystem::path& path, std::string_view data);

// The whole file.
Result<std::string> ReadWholeFile(const std::filesystem::path& path);

}  // namespace kalam::jobs
