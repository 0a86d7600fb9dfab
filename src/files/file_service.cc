// FileService: staging, reference counting in the commit, and the cleaner thread.
#include "files/file_service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

namespace kalam::files {

namespace {

using storage::Partition;

constexpr std::string_view kStg = "file/stg/";
constexpr std::string_view kRef = "file/ref/";
constexpr std::string_view kDel = "file/del/";
constexpr std::string_view kSub = "file/sub/";

std::string Hex16(uint64_t v) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[v & 15];
    v >>= 4;
  }
  return out;
}

std::optional<uint64_t> ParseHex16(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<uint64_t>(c - 'a' + 10);
    else return std::nullopt;
  }
  return v;
}

std::string StgKey(catalog::TableId t, std::string_view id) {
  return std::string(kStg) + Hex16(t) + "/" + std::string(id);
}
std::string RefKey(catalog::TableId t, std::string_view id) {
  return std::string(kRef) + Hex16(t) + "/" + std::string(id);
}
std::string DelKey(std::string_view id) { return std::string(kDel) + std::string(id); }

// Every (key, value) of partition meta under `prefix`.
Result<std::vector<std::pair<std::string, std::string>>> ScanPrefix(storage::KvStore& kv,
                                                                    std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = kv.NewIterator(Partition::kMeta);
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view k = it->key();
    if (k.substr(0, prefix.size()) != prefix) break;
    out.emplace_back(std::string(k), std::string(it->value()));
  }
  KALAM_RETURN_IF_ERROR(it->status());
  return out;
}

// "count \n storage \n key" → (count, "storage \n key").
std::pair<uint64_t, std::string> SplitRef(std::string_view v) {
  size_t nl = v.find('\n');
  if (nl == std::string_view::npos) return {0, std::string(v)};
  uint64_t n = 0;
  for (char c : v.substr(0, nl)) n = n * 10 + static_cast<uint64_t>(c - '0');
  return {n, std::string(v.substr(nl + 1))};
}

}  // namespace

FileService::FileService(storage::KvStore& kv, const catalog::Catalog& catalog,
                         table::ColdStore& cold, SnowflakeGenerator& ids, FileLimits limits,
                         std::string staging_dir, std::chrono::milliseconds cleanup_interval)
    : kv_(kv), catalog_(catalog), cold_(cold), ids_(ids), limits_(std::move(limits)),
      staging_dir_(std::move(staging_dir)), cleanup_interval_(cleanup_interval) {}

FileService::~FileService() { Stop(); }

Status FileService::Start() {
  std::error_code ec;
  std::filesystem::create_directories(staging_dir_, ec);
  if (ec) return Status::IoError("cannot create staging directory '" + staging_dir_ + "': " +
                                 ec.message());
  // Spool files of requests cut by a crash.
  for (const auto& entry : std::filesystem::directory_iterator(staging_dir_, ec)) {
    if (entry.path().filename().string().rfind("upload-", 0) == 0) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
  // Staged files of statements that never committed.
  KALAM_ASSIGN_OR_RETURN(auto staged, ScanPrefix(kv_, kStg));
  for (const auto& [key, value] : staged) {
    Status st = DeleteObject(value);
    if (!st.ok()) {
      spdlog::warn("Files: staged file {} could not be deleted at start: {}", key, st.message());
      continue;
    }
    storage::WriteBatch b;
    b.Delete(Partition::kMeta, key);
    KALAM_RETURN_IF_ERROR(kv_.Write(b));
  }
  if (!staged.empty()) {
    spdlog::info("Files: deleted {} uploaded file(s) of statements that did not commit",
                 staged.size());
  }
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
    wake_ = true;
  }
  cleaner_ = std::thread([this] { CleanerLoop(); });
  return Status::OK();
}

void FileService::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (cleaner_.joinable()) cleaner_.join();
}

bool FileService::MimeAllowed(std::string_view mime) const {
  if (limits_.allowed_mime_types.empty()) return true;
  std::string lower(mime);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t semi = lower.find(';');
  if (semi != std::string::npos) lower.resize(semi);
  while (!lower.empty() && lower.back() == ' ') lower.pop_back();
  for (const auto& allowed : limits_.allowed_mime_types) {
    if (allowed.size() >= 2 && allowed.compare(allowed.size() - 2, 2, "/*") == 0) {
      if (lower.compare(0, allowed.size() - 1, allowed, 0, allowed.size() - 1) == 0 &&
          lower.size() > allowed.size() - 1) {
        return true;
      }
    } else if (lower == allowed) {
      return true;
    }
  }
  return false;
}

Result<FileLocation> FileService::Locate(const catalog::TableDef& def, const table::Scope& scope,
                                         std::string_view sub,
                                         std::string_view stored_name) const {
  KALAM_ASSIGN_OR_RETURN(auto where, cold_.Locate(def, scope));
  return FileLocation{where.first,
                      where.second + "/" + std::string(sub) + "/" + std::string(stored_name)};
}

Result<std::optional<std::string>> FileService::CommittedMime(catalog::TableId table,
                                                              std::string_view id) {
  KALAM_ASSIGN_OR_RETURN(auto value, kv_.Get(Partition::kMeta, RefKey(table, id)));
  if (!value) return std::optional<std::string>();
  const std::string rest = SplitRef(*value).second;  // storage \n key \n mime
  const size_t a = rest.find('\n');
  const size_t b = a == std::string::npos ? a : rest.find('\n', a + 1);
  return std::optional<std::string>(b == std::string::npos ? std::string() : rest.substr(b + 1));
}

Result<std::shared_ptr<filestore::ObjectStore>> FileService::Store(const std::string& storage_id) {
  return cold_.StoreFor(storage_id);
}

Result<FileRef> FileService::Stage(const catalog::TableDef& def, const table::Scope& scope,
                                   const std::string& local_path, std::string name,
                                   std::string mime, uint64_t size, std::string sha256) {
  FileRef ref;
  ref.id = std::to_string(ids_.Next());
  ref.name = std::move(name);
  ref.mime = std::move(mime);
  ref.size = size;
  ref.sha256 = std::move(sha256);
  {
    // Subfolder rotation: a per-table count of stored files.
    std::lock_guard lock(sub_mu_);
    const std::string key = std::string(kSub) + Hex16(def.table_id);
    KALAM_ASSIGN_OR_RETURN(auto current, kv_.Get(Partition::kMeta, key));
    uint64_t n = 0;
    if (current) {
      for (char c : *current) n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    uint64_t folder = 1 + n / std::max<uint64_t>(1, limits_.max_files_per_folder);
    if (folder > 9999) folder = 9999;
    std::string digits = std::to_string(folder);
    ref.sub = "f" + std::string(4 - digits.size(), '0') + digits;
    storage::WriteBatch b;
    b.Put(Partition::kMeta, key, std::to_string(n + 1));
    KALAM_RETURN_IF_ERROR(kv_.Write(b));
  }
  KALAM_ASSIGN_OR_RETURN(FileLocation loc, Locate(def, scope, ref.sub, ref.StoredName()));
  const std::string value = loc.storage_id + "\n" + loc.key + "\n" + ref.mime;
  {
    // Recorded before the object exists, so a crash from here on leaves nothing unaccounted.
    storage::WriteBatch b;
    b.Put(Partition::kMeta, StgKey(def.table_id, ref.id), value);
    KALAM_RETURN_IF_ERROR(kv_.Write(b));
  }
  Status st;
  auto store = cold_.StoreFor(loc.storage_id);
  if (!store.ok()) st = store.status();
  else st = (*store)->PutFile(loc.key, local_path);
  if (!st.ok()) {
    Discard(def.table_id, {ref});
    return st;
  }
  return ref;
}

void FileService::Discard(catalog::TableId table, const std::vector<FileRef>& refs) {
  for (const auto& ref : refs) {
    const std::string key = StgKey(table, ref.id);
    auto value = kv_.Get(Partition::kMeta, key);
    if (!value.ok() || !*value) continue;  // committed (or unreadable: left for the next start)
    Status st = DeleteObject(**value);
    if (!st.ok()) {
      spdlog::warn("Files: uploaded file {} could not be deleted ({}); it is deleted at the next "
                   "start", ref.id, st.message());
      continue;
    }
    storage::WriteBatch b;
    b.Delete(Partition::kMeta, key);
    Status w = kv_.Write(b);
    if (!w.ok()) spdlog::warn("Files: staged record {} not removed: {}", key, w.message());
  }
}

Status FileService::DeleteObject(const std::string& location_value) {
  size_t nl = location_value.find('\n');
  if (nl == std::string::npos) return Status::Corruption("bad file location record");
  const std::string storage_id = location_value.substr(0, nl);
  const size_t end = location_value.find('\n', nl + 1);
  const std::string key = location_value.substr(
      nl + 1, end == std::string::npos ? std::string::npos : end - nl - 1);
  auto store = cold_.StoreFor(storage_id);
  if (!store.ok()) {
    // A dropped storage takes its files with it.
    if (store.status().code() == StatusCode::kNotFound) return Status::OK();
    return store.status();
  }
  return (*store)->Delete(key);
}

void FileService::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

Status FileService::OnStamped(const std::vector<table::ChangeRecord>& records,
                              storage::WriteBatch* batch) {
  group_deletes_ = false;
  // Values this group already changed (nullopt = deleted), over the committed state.
  std::map<std::string, std::optional<std::string>> overlay;
  auto get = [&](const std::string& key) -> Result<std::optional<std::string>> {
    auto it = overlay.find(key);
    if (it != overlay.end()) return it->second;
    return kv_.Get(Partition::kMeta, key);
  };
  auto put = [&](const std::string& key, std::string value) {
    batch->Put(Partition::kMeta, key, value);
    overlay[key] = std::move(value);
  };
  auto del = [&](const std::string& key) {
    batch->Delete(Partition::kMeta, key);
    overlay[key] = std::nullopt;
  };
  for (const auto& rec : records) {
    const catalog::TableDef& def = *rec.table;
    if (def.type != catalog::TableType::kUser && def.type != catalog::TableType::kShared) continue;
    if (!HasFileColumn(def)) continue;
    if (rec.kind == table::ChangeKind::kDelete) continue;  // soft delete: the row keeps its file
    std::set<std::string> now, before;
    for (const auto& r : FileRefsOfRow(def, rec.values)) now.insert(r.id);
    for (const auto& r : FileRefsOfRow(def, rec.old_values)) before.insert(r.id);
    for (const auto& id : now) {
      if (before.count(id)) continue;
      const std::string ref_key = RefKey(def.table_id, id);
      KALAM_ASSIGN_OR_RETURN(auto staged, get(StgKey(def.table_id, id)));
      if (staged) {
        del(StgKey(def.table_id, id));
        KALAM_ASSIGN_OR_RETURN(auto existing, get(ref_key));
        uint64_t n = existing ? SplitRef(*existing).first : 0;
        put(ref_key, std::to_string(n + 1) + "\n" + *staged);
        continue;
      }
      KALAM_ASSIGN_OR_RETURN(auto existing, get(ref_key));
      if (!existing) continue;  // text that names no stored file of this table
      auto [n, loc] = SplitRef(*existing);
      put(ref_key, std::to_string(n + 1) + "\n" + loc);
    }
    for (const auto& id : before) {
      if (now.count(id)) continue;
      const std::string ref_key = RefKey(def.table_id, id);
      KALAM_ASSIGN_OR_RETURN(auto existing, get(ref_key));
      if (!existing) continue;
      auto [n, loc] = SplitRef(*existing);
      if (n > 1) {
        put(ref_key, std::to_string(n - 1) + "\n" + loc);
      } else {
        del(ref_key);
        put(DelKey(id), loc);
        group_deletes_ = true;
      }
    }
  }
  return Status::OK();
}

Status FileService::OnPurge(const catalog::TableDef& def,
                            const std::vector<std::vector<Value>>& rows,
                            storage::WriteBatch* batch) {
  if (!HasFileColumn(def)) return Status::OK();
  // Counts as this batch leaves them (two purged rows may share a file).
  std::map<std::string, std::optional<std::string>> overlay;
  for (const auto& row : rows) {
    for (const auto& ref : FileRefsOfRow(def, row)) {
      const std::string ref_key = RefKey(def.table_id, ref.id);
      std::optional<std::string> existing;
      if (auto it = overlay.find(ref_key); it != overlay.end()) {
        existing = it->second;
      } else {
        KALAM_ASSIGN_OR_RETURN(existing, kv_.Get(Partition::kMeta, ref_key));
      }
      if (!existing) continue;
      auto [n, loc] = SplitRef(*existing);
      if (n > 1) {
        std::string next = std::to_string(n - 1) + "\n" + loc;
        batch->Put(Partition::kMeta, ref_key, next);
        overlay[ref_key] = std::move(next);
      } else {
        batch->Delete(Partition::kMeta, ref_key);
        batch->Put(Partition::kMeta, DelKey(ref.id), loc);
        overlay[ref_key] = std::nullopt;
      }
    }
  }
  return Status::OK();
}

void FileService::OnWritten(const Status& written) {
  if (written.ok() && group_deletes_) Wake();
  group_deletes_ = false;
}

Status FileService::CleanDroppedTable(catalog::TableId table) {
  Status first;
  for (std::string_view prefix : {kRef, kStg}) {
    const std::string p = std::string(prefix) + Hex16(table) + "/";
    KALAM_ASSIGN_OR_RETURN(auto entries, ScanPrefix(kv_, p));
    for (const auto& [key, value] : entries) {
      const std::string loc = prefix == kRef ? SplitRef(value).second : value;
      Status st = DeleteObject(loc);
      if (!st.ok()) {
        if (first.ok()) first = st;
        continue;
      }
      storage::WriteBatch b;
      b.Delete(Partition::kMeta, key);
      KALAM_RETURN_IF_ERROR(kv_.Write(b));
    }
  }
  if (!first.ok()) return first;
  storage::WriteBatch b;
  b.Delete(Partition::kMeta, std::string(kSub) + Hex16(table));
  return kv_.Write(b);
}

Status FileService::CleanOnce() {
  Status first;
  KALAM_ASSIGN_OR_RETURN(auto dels, ScanPrefix(kv_, kDel));
  for (const auto& [key, value] : dels) {
    Status st = DeleteObject(value);
    if (!st.ok()) {
      if (first.ok()) first = st;
      continue;
    }
    storage::WriteBatch b;
    b.Delete(Partition::kMeta, key);
    KALAM_RETURN_IF_ERROR(kv_.Write(b));
  }
  KALAM_ASSIGN_OR_RETURN(auto tables, ScanPrefix(kv_, kSub));
  auto snap = catalog_.snapshot();
  for (const auto& [key, value] : tables) {
    auto table = ParseHex16(std::string_view(key).substr(kSub.size()));
    if (!table || snap->FindTableById(*table)) continue;
    Status st = CleanDroppedTable(*table);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

void FileService::CleanerLoop() {
  auto last_warning = std::chrono::steady_clock::time_point::min();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // Also periodic: dropped tables are noticed here, and failed deletions (an unreachable S3)
    // are retried.
    cv_.wait_for(lock, cleanup_interval_, [this] { return stopping_ || wake_; });
    if (stopping_) break;
    wake_ = false;
    lock.unlock();
    Status st = CleanOnce();
    // A storage that stays unreachable fails every pass: say so once a minute, not each second.
    const auto now = std::chrono::steady_clock::now();
    if (!st.ok() && now - last_warning >= std::chrono::minutes(1)) {
      spdlog::warn("Files: cleanup pass incomplete (retried later): {}", st.message());
      last_warning = now;
    }
    lock.lock();
  }
}

}  // namespace kalam::files
