// LocalStore: POSIX implementation (openat/O_NOFOLLOW walks, temp file + fsync + rename).
#include "filestore/local_store.h"

#include <algorithm>
#include <functional>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <utility>

#include "filestore/path_template.h"
#include "filestore/store_check.h"

namespace kalam::filestore {
namespace {

constexpr std::string_view kTempPrefix = ".tmp-";

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership: the caller closes the returned descriptor.
  int Release() { return std::exchange(fd_, -1); }
  // Closes and reports close()'s errno (0 on success); the descriptor is released either way.
  int Close() {
    int err = 0;
    if (fd_ >= 0 && ::close(fd_) != 0) err = errno;
    fd_ = -1;
    return err;
  }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

std::string ErrnoText(int err) { return std::strerror(err); }

Status IoError(std::string_view what, const std::string& path, int err) {
  return Status::IoError(std::string(what) + " '" + path + "' failed: " + ErrnoText(err));
}

Status SymlinkRefused(const std::string& path) {
  return Status::IoError("'" + path +
                         "' is a symbolic link; the storage refuses to follow links below its "
                         "base directory. Remove the link.");
}

std::string TempName() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t process_random = [] {
    std::random_device rd;
    return (uint64_t(rd()) << 32) ^ rd();
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name(kTempPrefix);
  name += std::to_string(::getpid());
  name += '-';
  name += std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
  name += '-';
  for (int i = 0; i < 16; ++i) name += kHex[(process_random >> (i * 4)) & 15];
  return name;
}

// Splits a validated key into its segments.
std::vector<std::string_view> Segments(std::string_view key) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(key.substr(start));
      return out;
    }
    out.push_back(key.substr(start, slash - start));
    start = slash + 1;
  }
}

// Why openat(O_NOFOLLOW | O_DIRECTORY) of `name` in `dir` failed with `err`: a symlink, a
// non-directory, or something else. Linux reports a symlink as ELOOP, but classify by lstat so
// that the answer does not depend on which errno a kernel picks.
enum class OpenDirFailure { kMissing, kSymlink, kNotDirectory, kOther };

OpenDirFailure Classify(int dir, const std::string& name, int err) {
  if (err == ENOENT) return OpenDirFailure::kMissing;
  if (err == ELOOP || err == ENOTDIR) {
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISLNK(st.st_mode)) return OpenDirFailure::kSymlink;
      if (!S_ISDIR(st.st_mode)) return OpenDirFailure::kNotDirectory;
    }
  }
  return OpenDirFailure::kOther;
}

int OpenDirAt(int dir, const std::string& name) {
  int fd;
  do {
    fd = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Status FsyncFd(int fd, const std::string& path) {
  if (::fsync(fd) != 0) return IoError("fsync of", path, errno);
  return Status::OK();
}

// The outcome of walking to the directory that holds a key's last segment.
struct ParentDir {
  Fd fd;              // valid when found
  bool missing = false;  // a directory on the way does not exist (or is a file); only when !create
};

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::Open(std::string_view base_directory) {
  std::string base(base_directory);
  if (base.empty()) {
    return Status::InvalidArgument("filesystem storage needs a base directory (an absolute path)");
  }
  if (base.find('\0') != std::string::npos) {
    return Status::InvalidArgument("filesystem storage base directory contains a NUL byte");
  }
  if (base.front() != '/') {
    return Status::InvalidArgument("filesystem storage base directory '" + base +
                                   "' is relative; give an absolute path");
  }
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(base)));
}

namespace {

// Opens the base directory, creating it (and fsyncing the parent of each directory created) when
// `create`. Sets *missing when it does not exist and !create.
Result<Fd> OpenBase(const std::string& base, bool create, bool* missing) {
  *missing = false;
  int fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) return Fd(fd);
  int err = errno;
  if (err != ENOENT) return IoError("opening storage base directory", base, err);
  if (!create) {
    *missing = true;
    return Fd();
  }
  std::error_code ec;
  std::filesystem::path path(base);
  // Remember the deepest existing ancestor: the directories below it are new and their parents
  // need an fsync so that the new entries survive a crash.
  std::filesystem::path existing = path.parent_path();
  while (!existing.empty() && !std::filesystem::exists(existing, ec)) {
    existing = existing.parent_path();
  }
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return Status::IoError("creating storage base directory '" + base + "' failed: " +
                           ec.message());
  }
  for (std::filesystem::path p = path.parent_path(); !p.empty(); p = p.parent_path()) {
    int pfd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) {
      Fd owner(pfd);
      KALAM_RETURN_IF_ERROR(FsyncFd(owner.get(), p.string()));
    }
    if (p == existing || p == p.root_path()) break;
  }
  fd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("opening storage base directory", base, errno);
  return Fd(fd);
}

// Walks `dirs` (segments) from `base_fd` one directory at a time with O_NOFOLLOW. With `create`,
// missing directories are made (mode 0755) and their parent fsynced. `base` names the base in
// messages.
Result<ParentDir> WalkDirs(const std::string& base, Fd base_fd,
                           const std::vector<std::string_view>& dirs, bool create) {
  ParentDir result;
  Fd cur = std::move(base_fd);
  std::string path = base;
  for (std::string_view seg_view : dirs) {
    std::string seg(seg_view);
    path += '/';
    path += seg;
    int fd = OpenDirAt(cur.get(), seg);
    if (fd < 0) {
      int err = errno;
      OpenDirFailure why = Classify(cur.get(), seg, err);
      if (why == OpenDirFailure::kSymlink) return SymlinkRefused(path);
      if (why == OpenDirFailure::kMissing && create) {
        if (::mkdirat(cur.get(), seg.c_str(), 0755) != 0 && errno != EEXIST) {
          return IoError("creating directory", path, errno);
        }
        KALAM_RETURN_IF_ERROR(FsyncFd(cur.get(), path.substr(0, path.rfind('/'))));
        fd = OpenDirAt(cur.get(), seg);
        if (fd < 0) {
          err = errno;
          if (Classify(cur.get(), seg, err) == OpenDirFailure::kSymlink) {
            return SymlinkRefused(path);
          }
          return IoError("opening directory", path, err);
        }
      } else if ((why == OpenDirFailure::kMissing || why == OpenDirFailure::kNotDirectory) &&
                 !create) {
        result.missing = true;
        return result;
      } else if (why == OpenDirFailure::kNotDirectory) {
        return Status::IoError("'" + path + "' is a file, so no object can be stored below it");
      } else {
        return IoError("opening directory", path, err);
      }
    }
    cur = Fd(fd);
  }
  result.fd = std::move(cur);
  return result;
}

Status CheckNotTempName(std::string_view key) {
  std::string_view leaf = key.substr(key.rfind('/') == std::string_view::npos
                                         ? 0
                                         : key.rfind('/') + 1);
  if (leaf.substr(0, kTempPrefix.size()) == kTempPrefix) {
    return Status::InvalidArgument("object key '" + std::string(key) +
                                   "': names starting with '.tmp-' are reserved for the temporary "
                                   "files of unfinished writes");
  }
  return Status::OK();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("writing", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// Recursively collects the regular files below `dir` (whose key prefix is `rel`, "" or ending in
// '/'). At this level only names starting with `name_filter` are considered.
Status Walk(int dir, const std::string& base, const std::string& rel, std::string_view name_filter,
            std::vector<ObjectInfo>* out) {
  const std::string dir_path = rel.empty() ? base : base + "/" + rel.substr(0, rel.size() - 1);
  int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("opening directory", dir_path, errno);
  DirPtr d(::fdopendir(fd));
  if (!d) {
    int err = errno;
    ::close(fd);
    return IoError("reading directory", dir_path, err);
  }
  while (true) {
    errno = 0;
    struct dirent* e = ::readdir(d.get());
    if (e == nullptr) {
      if (errno != 0) return IoError("reading directory", dir_path, errno);
      break;
    }
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (name.compare(0, name_filter.size(), name_filter) != 0) continue;
    struct stat st;
    if (::fstatat(::dirfd(d.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // deleted while we were listing
      return IoError("inspecting", dir_path + "/" + name, errno);
    }
    std::string key = rel + name;
    if (S_ISREG(st.st_mode)) {
      if (name.compare(0, kTempPrefix.size(), kTempPrefix) == 0) continue;
      if (!ValidateKey(key).ok()) continue;
      out->push_back(ObjectInfo{std::move(key), static_cast<uint64_t>(st.st_size)});
    } else if (S_ISDIR(st.st_mode)) {
      int sub = OpenDirAt(::dirfd(d.get()), name);
      if (sub < 0) {
        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) continue;  // raced
        return IoError("opening directory", dir_path + "/" + name, errno);
      }
      Fd owner(sub);
      KALAM_RETURN_IF_ERROR(Walk(owner.get(), base, key + "/", "", out));
    }
    // Symbolic links and special files are not objects: skipped, never followed.
  }
  return Status::OK();
}

}  // namespace

Status LocalStore::Put(std::string_view key, std::string_view data) {
  return PutWith(key, [data](int fd, const std::string& tmp_path) {
    return WriteAll(fd, data, tmp_path);
  });
}

Status LocalStore::PutFile(std::string_view key, const std::string& local_path) {
  return PutWith(key, [&local_path](int fd, const std::string& tmp_path) -> Status {
    int raw = ::open(local_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (raw < 0) return IoError("opening", local_path, errno);
    Fd src(raw);
    std::string buf(1 << 20, '\0');
    while (true) {
      ssize_t n = ::read(src.get(), buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("reading", local_path, errno);
      }
      if (n == 0) return Status::OK();
      KALAM_RETURN_IF_ERROR(WriteAll(fd, std::string_view(buf.data(), static_cast<size_t>(n)),
                                     tmp_path));
    }
  });
}

Status LocalStore::PutWith(std::string_view key,
                           const std::function<Status(int, const std::string&)>& write) {
  KALAM_RETURN_IF_ERROR(ValidateKey(key));
  KALAM_RETURN_IF_ERROR(CheckNotTempName(key));
  std::vector<std::string_view> segs = Segments(key);
  const std::string leaf(segs.back());
  segs.pop_back();
  const std::string path = Describe(key);

  bool base_missing = false;
  KALAM_ASSIGN_OR_RETURN(Fd base_fd, OpenBase(base_, /*create=*/true, &base_missing));
  KALAM_ASSIGN_OR_RETURN(ParentDir parent, WalkDirs(base_, std::move(base_fd), segs, true));
  const int dir = parent.fd.get();
  const std::string dir_path = path.substr(0, path.rfind('/'));

  struct stat st;
  if (::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) return SymlinkRefused(path);
    if (S_ISDIR(st.st_mode)) {
      return Status::IoError("'" + path + "' is a directory (objects are stored below it), so "
                             "it cannot also be an object");
    }
  } else if (errno != ENOENT) {
    return IoError("inspecting", path, errno);
  }

  const std::string tmp = TempName();
  const std::string tmp_path = dir_path + "/" + tmp;
  int raw = ::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (raw < 0) return IoError("creating temporary file", tmp_path, errno);
  Fd file(raw);
  Status st_write = write(file.get(), tmp_path);
  if (st_write.ok() && ::fsync(file.get()) != 0) st_write = IoError("fsync of", tmp_path, errno);
  if (int err = file.Close(); st_write.ok() && err != 0) {
    st_write = IoError("closing", tmp_path, err);
  }
  if (st_write.ok() && ::renameat(dir, tmp.c_str(), dir, leaf.c_str()) != 0) {
    st_write = IoError("renaming '" + tmp_path + "' to", path, errno);
  }
  if (!st_write.ok()) {
    ::unlinkat(dir, tmp.c_str(), 0);
    return st_write;
  }
  return FsyncFd(dir, dir_path);
}

namespace {

// Opens object `key` (at `path`) of the store rooted at `base` for reading, refusing symbolic
// links anywhere below the base; the open file and its size.
Result<std::pair<Fd, uint64_t>> OpenObjectForRead(const std::string& base, std::string_view key,
                                                  const std::string& path) {
  KALAM_RETURN_IF_ERROR(ValidateKey(key));
  std::vector<std::string_view> segs = Segments(key);
  const std::string leaf(segs.back());
  segs.pop_back();
  const auto not_found = [&] { return Status::NotFound("object '" + path + "' does not exist"); };

  bool base_missing = false;
  KALAM_ASSIGN_OR_RETURN(Fd base_fd, OpenBase(base, /*create=*/false, &base_missing));
  if (base_missing) return not_found();
  KALAM_ASSIGN_OR_RETURN(ParentDir parent, WalkDirs(base, std::move(base_fd), segs, false));
  if (parent.missing) return not_found();

  int raw;
  do {
    // O_NONBLOCK so that a FIFO planted in the directory cannot hang the open.
    raw = ::openat(parent.fd.get(), leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) {
    int err = errno;
    if (err == ENOENT) return not_found();
    struct stat lst;
    if (::fstatat(parent.fd.get(), leaf.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(lst.st_mode)) {
      return SymlinkRefused(path);
    }
    return IoError("opening", path, err);
  }
  Fd file(raw);
  struct stat st;
  if (::fstat(file.get(), &st) != 0) return IoError("inspecting", path, errno);
  if (S_ISDIR(st.st_mode)) return not_found();
  if (!S_ISREG(st.st_mode)) {
    return Status::IoError("'" + path + "' is not a regular file");
  }
  return std::make_pair(std::move(file), static_cast<uint64_t>(st.st_size));
}

}  // namespace

Result<std::string> LocalStore::Get(std::string_view key) {
  const std::string path = Describe(key);
  KALAM_ASSIGN_OR_RETURN(auto opened, OpenObjectForRead(base_, key, path));
  Fd file = std::move(opened.first);
  struct stat st;
  st.st_size = static_cast<off_t>(opened.second);
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(file.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("reading", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> LocalStore::GetRange(std::string_view key, uint64_t offset, uint64_t length) {
  const std::string path = Describe(key);
  KALAM_ASSIGN_OR_RETURN(auto opened, OpenObjectForRead(base_, key, path));
  const uint64_t size = opened.second;
  if (offset >= size) return std::string();
  length = std::min(length, size - offset);
  std::string out(static_cast<size_t>(length), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(opened.first.get(), out.data() + done, out.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("reading", path, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

Result<std::pair<int, uint64_t>> LocalStore::OpenForRead(std::string_view key) {
  const std::string path = Describe(key);
  KALAM_ASSIGN_OR_RETURN(auto opened, OpenObjectForRead(base_, key, path));
  return std::make_pair(opened.first.Release(), opened.second);
}

Result<uint64_t> LocalStore::Size(std::string_view key) {
  const std::string path = Describe(key);
  KALAM_ASSIGN_OR_RETURN(auto opened, OpenObjectForRead(base_, key, path));
  return opened.second;
}

Status LocalStore::Delete(std::string_view key) {
  KALAM_RETURN_IF_ERROR(ValidateKey(key));
  std::vector<std::string_view> segs = Segments(key);
  const std::string leaf(segs.back());
  segs.pop_back();
  const std::string path = Describe(key);

  bool base_missing = false;
  KALAM_ASSIGN_OR_RETURN(Fd base_fd, OpenBase(base_, /*create=*/false, &base_missing));
  if (base_missing) return Status::OK();
  KALAM_ASSIGN_OR_RETURN(ParentDir parent, WalkDirs(base_, std::move(base_fd), segs, false));
  if (parent.missing) return Status::OK();
  const int dir = parent.fd.get();

  struct stat st;
  if (::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::OK();
    return IoError("inspecting", path, errno);
  }
  if (S_ISLNK(st.st_mode)) return SymlinkRefused(path);
  if (S_ISDIR(st.st_mode)) return Status::OK();  // a folder of objects, not an object
  if (::unlinkat(dir, leaf.c_str(), 0) != 0) {
    if (errno == ENOENT) return Status::OK();
    return IoError("deleting", path, errno);
  }
  return FsyncFd(dir, path.substr(0, path.rfind('/')));
}

Result<std::vector<ObjectInfo>> LocalStore::List(std::string_view prefix) {
  KALAM_RETURN_IF_ERROR(ValidatePrefix(prefix));
  std::vector<ObjectInfo> out;
  bool base_missing = false;
  KALAM_ASSIGN_OR_RETURN(Fd base_fd, OpenBase(base_, /*create=*/false, &base_missing));
  if (base_missing) return out;

  // "a/b/se" → walk directory "a/b", considering only its entries that start with "se".
  size_t last_slash = prefix.rfind('/');
  std::string_view dir_part =
      last_slash == std::string_view::npos ? std::string_view() : prefix.substr(0, last_slash);
  std::string_view name_filter =
      last_slash == std::string_view::npos ? prefix : prefix.substr(last_slash + 1);
  std::vector<std::string_view> dirs;
  if (!dir_part.empty()) dirs = Segments(dir_part);
  KALAM_ASSIGN_OR_RETURN(ParentDir start, WalkDirs(base_, std::move(base_fd), dirs, false));
  if (start.missing) return out;
  std::string rel = dir_part.empty() ? std::string() : std::string(dir_part) + "/";
  KALAM_RETURN_IF_ERROR(Walk(start.fd.get(), base_, rel, name_filter, &out));
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status LocalStore::Check() { return RunStoreCheck(*this); }

std::string LocalStore::Describe(std::string_view key) const {
  if (base_ == "/") return "/" + std::string(key);
  return base_ + "/" + std::string(key);
}

}  // namespace kalam::filestore
