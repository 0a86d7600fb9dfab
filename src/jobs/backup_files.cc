// File steps shared by the backups (jobs/backup_files.h).
#include "jobs/backup_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace kalam::jobs {

namespace fs = std::filesystem;

Status BackupIoError(const std::string& what, const std::error_code& ec) {
  return Status::IoError(what + ": " + ec.message());
}

Result<bool> IsAbsentOrEmpty(const fs::path& dir) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return BackupIoError("Cannot inspect '" + dir.string() + "'", ec);
  }
  if (!fs::exists(st)) return true;
  if (!fs::is_directory(st)) return false;
  return fs::is_empty(dir, ec) && !ec;
}

Status LinkOrCopy(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) return BackupIoError("Cannot create '" + to.parent_path().string() + "'", ec);
  fs::create_hard_link(from, to, ec);
  if (!ec) return Status::OK();
  ec.clear();
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return BackupIoError("Cannot copy '" + from.string() + "' to '" + to.string() + "'", ec);
  return Status::OK();
}

Status Unshare(const fs::path& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0 || st.st_nlink <= 1) return Status::OK();
  const fs::path tmp = file.string() + ".copy";
  std::error_code ec;
  fs::copy_file(file, tmp, fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(tmp, file, ec);
  if (ec) return BackupIoError("Cannot copy '" + file.string() + "'", ec);
  return Status::OK();
}

Status WriteFileSynced(const fs::path& path, std::string_view data) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Status::IoError("Cannot write '" + path.string() + "'");
  const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size() &&
                  std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  if (std::fclose(f) != 0 || !ok) return Status::IoError("Cannot write '" + path.string() + "'");
  return Status::OK();
}

Result<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("Cannot read '" + path.string() + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::filesystem::path> CreateBackupDirectory(const std::string& dir_text) {
  const std::filesystem::path dir = std::filesystem::absolute(dir_text).lexically_normal();
  KALAM_ASSIGN_OR_RETURN(bool empty, IsAbsentOrEmpty(dir));
  if (!empty) {
    return Status::AlreadyExists("Backup directory '" + dir_text +
                                 "' is not empty; back up into a new directory");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return BackupIoError("Cannot create backup directory '" + dir_text + "'", ec);
  return dir;
}

}  // namespace kalam::jobs
