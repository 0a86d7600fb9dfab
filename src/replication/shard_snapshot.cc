// Shard snapshots: the descriptor codec, the key file and the directory fetcher.
#include "replication/shard_snapshot.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>

#include "common/value_codec.h"
#include "table/keys.h"
#include "table/row_codec.h"

namespace kalam::replication {

namespace {

constexpr std::string_view kKeyFileHeader = "KALAMDB shard snapshot keys v1\n";
constexpr uint8_t kTrailerTag = 0xFF;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(what + " '" + path + "': " + std::strerror(errno));
}

void AppendU32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

bool ReadU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<uint8_t>((*in)[i]);
  in->remove_prefix(4);
  return true;
}

void AppendBytes(std::string_view s, std::string* out) {
  AppendU32(static_cast<uint32_t>(s.size()), out);
  out->append(s);
}

bool ReadBytes(std::string_view* in, std::string* s) {
  uint32_t n = 0;
  std::string_view rest = *in;
  if (!ReadU32(&rest, &n) || rest.size() < n) return false;
  s->assign(rest.substr(0, n));
  rest.remove_prefix(n);
  *in = rest;
  return true;
}

// The `_seq` a group key carries (rows / stream key suffix, pk entry prefix); 0 when none.
int64_t SeqOfKey(storage::Partition p, std::string_view key, std::string_view value) {
  int64_t seq = 0;
  if (p == storage::Partition::kPk) {
    std::string_view bytes;
    if (table::SplitPkEntry(value, &seq, &bytes)) return seq;
    return 0;
  }
  if (p == storage::Partition::kRows || p == storage::Partition::kStream) {
    table::TableId table{};
    table::Scope scope;
    std::string_view rest = key;
    uint64_t raw = 0;
    if (table::ConsumeScopePrefix(&rest, &table, &scope) && ReadOrderedU64(&rest, &raw)) {
      return static_cast<int64_t>(raw);
    }
  }
  return 0;
}

}  // namespace

bool EveryDataKey(storage::Partition partition, std::string_view key) {
  switch (partition) {
    case storage::Partition::kRows:
    case storage::Partition::kPk:
    case storage::Partition::kStream:
      return true;
    case storage::Partition::kMeta:
      return key.starts_with(table::ColdManifestPrefix());
    default:
      return false;
  }
}

std::string EncodeSnapshotDescriptor(const SnapshotDescriptor& d) {
  std::string out;
  out.push_back(static_cast<char>(kSnapshotDescriptorVersion));
  AppendBytes(d.group, &out);
  AppendOrderedU64(d.applied_index, &out);
  AppendOrderedU64(d.source, &out);
  AppendOrderedU64(static_cast<uint64_t>(d.max_seq), &out);
  AppendU32(static_cast<uint32_t>(d.files.size()), &out);
  for (const auto& f : d.files) {
    AppendBytes(f.path, &out);
    AppendOrderedU64(f.size_bytes, &out);
    AppendBytes(f.sha256, &out);
  }
  return out;
}

Result<SnapshotDescriptor> DecodeSnapshotDescriptor(std::string_view in) {
  auto bad = [](const std::string& why) {
    return Status::Corruption("Bad shard snapshot descriptor: " + why);
  };
  if (in.empty()) return bad("empty");
  const auto version = static_cast<uint8_t>(in[0]);
  if (version != kSnapshotDescriptorVersion) {
    return bad("version " + std::to_string(version) + " is not supported (this build reads " +
               std::to_string(kSnapshotDescriptorVersion) + ")");
  }
  in.remove_prefix(1);
  SnapshotDescriptor d;
  uint64_t max_seq = 0;
  uint32_t n = 0;
  if (!ReadBytes(&in, &d.group) || !ReadOrderedU64(&in, &d.applied_index) ||
      !ReadOrderedU64(&in, &d.source) || !ReadOrderedU64(&in, &max_seq) || !ReadU32(&in, &n)) {
    return bad("truncated header");
  }
  d.max_seq = static_cast<int64_t>(max_seq);
  for (uint32_t i = 0; i < n; ++i) {
    SnapshotFile f;
    if (!ReadBytes(&in, &f.path) || !ReadOrderedU64(&in, &f.size_bytes) ||
        !ReadBytes(&in, &f.sha256)) {
      return bad("truncated file list");
    }
    d.files.push_back(std::move(f));
  }
  if (!in.empty()) return bad(std::to_string(in.size()) + " trailing bytes");
  return d;
}

void DirectorySnapshotFetcher::SetRoot(cluster::NodeId id, std::string root) {
  for (auto& [node, dir] : roots_) {
    if (node == id) {
      dir = std::move(root);
      return;
    }
  }
  roots_.emplace_back(id, std::move(root));
}

Status DirectorySnapshotFetcher::Fetch(cluster::NodeId source, const std::string& path,
                                       const std::string& local_path) {
  const std::string* root = nullptr;
  for (const auto& [node, dir] : roots_) {
    if (node == source) root = &dir;
  }
  if (root == nullptr) {
    return Status::Unavailable("No snapshot source for node " + std::to_string(source));
  }
  const std::filesystem::path from = std::filesystem::path(*root) / path;
  std::error_code ec;
  if (!std::filesystem::exists(from, ec)) {
    return Status::NotFound("Node " + std::to_string(source) + " has no snapshot file '" + path +
                            "'");
  }
  std::filesystem::copy_file(from, local_path, ec);
  if (ec) {
    return Status::IoError("Cannot copy snapshot file '" + from.string() + "' to '" + local_path +
                           "': " + ec.message());
  }
  return Status::OK();
}

Result<KeyFileStats> WriteKeyFile(storage::KvStore& kv, const storage::KvSnapshot* snapshot,
                                  const GroupKeyPredicate& owns, const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "wbx"));
  if (!file) return Errno("Cannot create the snapshot file", path);
  std::vector<char> buffer(1 << 20);
  // A buffering hint: setvbuf fails only for a bad mode, and the default buffer works as well.
  (void)std::setvbuf(file.get(), buffer.data(), _IOFBF, buffer.size());
  KeyFileStats stats;
  std::string record;
  auto put = [&](std::string_view bytes) {
    return std::fwrite(bytes.data(), 1, bytes.size(), file.get()) == bytes.size();
  };
  if (!put(kKeyFileHeader)) return Errno("Cannot write the snapshot file", path);
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  for (storage::Partition p : kGroupPartitions) {
    auto it = kv.NewIterator(p, ro);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!owns(p, it->key())) continue;
      record.clear();
      record.push_back(static_cast<char>(p));
      AppendOrderedU64(it->key().size(), &record);
      record.append(it->key());
      AppendOrderedU64(it->value().size(), &record);
      record.append(it->value());
      if (!put(record)) return Errno("Cannot write the snapshot file", path);
      ++stats.keys;
      stats.max_seq = std::max(stats.max_seq, SeqOfKey(p, it->key(), it->value()));
    }
    KALAM_RETURN_IF_ERROR(it->status());
  }
  record.clear();
  record.push_back(static_cast<char>(kTrailerTag));
  AppendOrderedU64(stats.keys, &record);
  if (!put(record) || std::fflush(file.get()) != 0) {
    return Errno("Cannot write the snapshot file", path);
  }
  if (::fsync(fileno(file.get())) != 0) return Errno("Cannot sync the snapshot file", path);
  return stats;
}

Status ReadKeyFile(const std::string& path,
                   const std::function<void(storage::Partition, std::string_view,
                                            std::string_view)>& put) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (!file) return Errno("Cannot open the snapshot file", path);
  std::vector<char> buffer(1 << 20);
  (void)std::setvbuf(file.get(), buffer.data(), _IOFBF, buffer.size());  // a hint (see above)
  auto bad = [&](const std::string& why) {
    return Status::Corruption("Bad snapshot file '" + path + "': " + why);
  };
  std::string header(kKeyFileHeader.size(), '\0');
  if (std::fread(header.data(), 1, header.size(), file.get()) != header.size() ||
      header != kKeyFileHeader) {
    return bad("not a shard snapshot key file");
  }
  auto read_u64 = [&](uint64_t* v) {
    char raw[8];
    if (std::fread(raw, 1, 8, file.get()) != 8) return false;
    std::string_view in(raw, 8);
    return ReadOrderedU64(&in, v);
  };
  std::string key, value;
  uint64_t keys = 0;
  for (;;) {
    const int tag = std::fgetc(file.get());
    if (tag == EOF) return bad("truncated (no trailer)");
    if (tag == kTrailerTag) {
      uint64_t count = 0;
      if (!read_u64(&count)) return bad("truncated trailer");
      if (count != keys) {
        return bad("the trailer counts " + std::to_string(count) + " keys, the file holds " +
                   std::to_string(keys));
      }
      if (std::fgetc(file.get()) != EOF) return bad("bytes after the trailer");
      return Status::OK();
    }
    bool known = false;
    for (storage::Partition p : kGroupPartitions) known = known || tag == static_cast<int>(p);
    if (!known) return bad("unknown partition " + std::to_string(tag));
    uint64_t n = 0;
    constexpr uint64_t kMaxLen = 1ull << 32;
    if (!read_u64(&n) || n > kMaxLen) return bad("bad key length");
    key.resize(n);
    if (std::fread(key.data(), 1, n, file.get()) != n) return bad("truncated key");
    if (!read_u64(&n) || n > kMaxLen) return bad("bad value length");
    value.resize(n);
    if (std::fread(value.data(), 1, n, file.get()) != n) return bad("truncated value");
    put(static_cast<storage::Partition>(tag), key, value);
    ++keys;
  }
}

}  // namespace kalam::replication
