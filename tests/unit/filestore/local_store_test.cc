// Tests for LocalStore: object round trips, listing, atomic replacement, temp-file hygiene and
// refusal of every way out of the base directory (hostile keys, symbolic links).
#include "filestore/local_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "filestore/object_store.h"

namespace kalam::filestore {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kalam-localstore-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    base_ = root_ + "/base";
    auto store = LocalStore::Open(base_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void WriteFile(const std::string& path, const std::string& data) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream out(path, std::ios::binary);
    out << data;
  }
  std::vector<std::string> Keys(std::string_view prefix = "") {
    auto listed = store_->List(prefix);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<std::string> keys;
    if (listed.ok()) {
      for (const auto& info : *listed) keys.push_back(info.key);
    }
    return keys;
  }
  // Every file name under the base, recursively, relative to it (temp files included).
  std::vector<std::string> AllFiles() {
    std::vector<std::string> out;
    if (!fs::exists(base_)) return out;
    for (auto& e : fs::recursive_directory_iterator(base_)) {
      if (!e.is_directory()) out.push_back(fs::relative(e.path(), base_).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string root_;
  std::string base_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, OpenRefusesRelativeAndEmptyBaseDirectories) {
  EXPECT_EQ(LocalStore::Open("data/storage").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalStore::Open("data/storage").status().message(),
            "filesystem storage base directory 'data/storage' is relative; give an absolute path");
  EXPECT_EQ(LocalStore::Open("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalStore::Open("/a\0b"s).status().code(), StatusCode::kInvalidArgument);
  StoreConfig config;
  config.type = "filesystem";
  config.base_directory = "./relative";
  EXPECT_EQ(OpenObjectStore(config).status().code(), StatusCode::kInvalidArgument);
  config.type = "ftp";
  EXPECT_EQ(OpenObjectStore(config).status().message(),
            "unknown storage type 'ftp'; use 'filesystem' or 's3'");
}

TEST_F(LocalStoreTest, OpenObjectStoreBuildsALocalStore) {
  StoreConfig config;
  config.type = "filesystem";
  config.base_directory = base_ + "///";
  auto store = OpenObjectStore(config);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe("a/b.parquet"), base_ + "/a/b.parquet");
  ASSERT_TRUE((*store)->Put("x", "1").ok());
  EXPECT_EQ(ReadFile(base_ + "/x"), "1");
}

TEST_F(LocalStoreTest, PutCreatesTheBaseAndParentsAndGetReadsBack) {
  EXPECT_FALSE(fs::exists(base_));
  std::string data = "PAR1\0\x01\x02 binary\xff"s;
  ASSERT_TRUE(store_->Put("chat/messages/u1/seg-000001.parquet", data).ok());
  EXPECT_EQ(ReadFile(base_ + "/chat/messages/u1/seg-000001.parquet"), data);
  auto got = store_->Get("chat/messages/u1/seg-000001.parquet");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, data);
}

TEST_F(LocalStoreTest, EmptyAndLargeObjectsRoundTrip) {
  ASSERT_TRUE(store_->Put("empty", "").ok());
  EXPECT_EQ(*store_->Get("empty"), "");
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  ASSERT_TRUE(store_->Put("big/object", big).ok());
  auto got = store_->Get("big/object");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == big);
}

TEST_F(LocalStoreTest, GetOfAMissingObjectIsNotFound) {
  auto r = store_->Get("nope");  // base does not even exist yet
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "object '" + base_ + "/nope' does not exist");
  ASSERT_TRUE(store_->Put("a/b", "x").ok());
  EXPECT_EQ(store_->Get("a/c").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("z/b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("a").status().code(), StatusCode::kNotFound);  // a folder, not an object
  EXPECT_EQ(store_->Get("a/b/c").status().code(), StatusCode::kNotFound);  // below a file
}

TEST_F(LocalStoreTest, PutOverwritesAtomicallyAndLeavesNoTempFiles) {
  ASSERT_TRUE(store_->Put("m/manifest.json", "version 1").ok());
  ASSERT_TRUE(store_->Put("m/manifest.json", "version 2, longer").ok());
  ASSERT_TRUE(store_->Put("m/manifest.json", "v3").ok());
  EXPECT_EQ(*store_->Get("m/manifest.json"), "v3");
  EXPECT_EQ(AllFiles(), std::vector<std::string>{"m/manifest.json"});
}

TEST_F(LocalStoreTest, ConcurrentReadersSeeOnlyWholeVersions) {
  const std::string a(256 << 10, 'a');
  const std::string b(512 << 10, 'b');
  ASSERT_TRUE(store_->Put("obj", a).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!stop.load()) {
      auto got = store_->Get("obj");
      if (!got.ok() || !(*got == a || *got == b)) torn.fetch_add(1);
      reads.fetch_add(1);
    }
  });
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(store_->Put("obj", i % 2 ? a : b).ok());
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(AllFiles(), std::vector<std::string>{"obj"});
}

TEST_F(LocalStoreTest, ConcurrentWritersOfOneKeyLeaveOneWholeObject) {
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        EXPECT_TRUE(store_->Put("shared/key", std::string(10000, static_cast<char>('a' + t))).ok());
      }
    });
  }
  for (auto& w : writers) w.join();
  auto got = store_->Get("shared/key");
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 10000u);
  EXPECT_EQ(*got, std::string(10000, (*got)[0]));
  EXPECT_EQ(AllFiles(), std::vector<std::string>{"shared/key"});
}

TEST_F(LocalStoreTest, ListIsRecursiveSortedRelativeAndFilteredByPrefix) {
  for (const char* key : {"b/2", "a/1", "a/sub/3", "a/sub/deeper/4", "ab", "c", "a0"}) {
    ASSERT_TRUE(store_->Put(key, std::string(key)).ok()) << key;
  }
  EXPECT_EQ(Keys(), (std::vector<std::string>{"a/1", "a/sub/3", "a/sub/deeper/4", "a0", "ab",
                                              "b/2", "c"}));
  EXPECT_EQ(Keys("a/"), (std::vector<std::string>{"a/1", "a/sub/3", "a/sub/deeper/4"}));
  EXPECT_EQ(Keys("a"), (std::vector<std::string>{"a/1", "a/sub/3", "a/sub/deeper/4", "a0", "ab"}));
  EXPECT_EQ(Keys("a/s"), (std::vector<std::string>{"a/sub/3", "a/sub/deeper/4"}));
  EXPECT_EQ(Keys("a/sub/deeper/4"), (std::vector<std::string>{"a/sub/deeper/4"}));
  EXPECT_EQ(Keys("zzz/"), std::vector<std::string>{});
  EXPECT_EQ(Keys("c/"), std::vector<std::string>{});  // "c" is a file, not a folder

  auto listed = store_->List("a/sub/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].key, "a/sub/3");
  EXPECT_EQ((*listed)[0].size_bytes, 7u);
}

TEST_F(LocalStoreTest, ListOfAMissingBaseIsEmpty) {
  EXPECT_EQ(Keys(), std::vector<std::string>{});
  EXPECT_EQ(Keys("a/"), std::vector<std::string>{});
}

TEST_F(LocalStoreTest, LeftoverTempFileOfACrashedPutIsNotListed) {
  ASSERT_TRUE(store_->Put("t/seg-1.parquet", "whole").ok());
  // What a crash between create and rename leaves behind.
  WriteFile(base_ + "/t/.tmp-12345-0-deadbeef", "half a segm");
  WriteFile(base_ + "/.tmp-99-1-00", "x");
  EXPECT_EQ(Keys(), std::vector<std::string>{"t/seg-1.parquet"});
  EXPECT_EQ(Keys("t/"), std::vector<std::string>{"t/seg-1.parquet"});
  EXPECT_EQ(Keys("t/.tmp-"), std::vector<std::string>{});
  // And a later Put of the same key still works and does not remove someone else's temp file.
  ASSERT_TRUE(store_->Put("t/seg-1.parquet", "again").ok());
  EXPECT_EQ(*store_->Get("t/seg-1.parquet"), "again");
}

TEST_F(LocalStoreTest, TempFileNamesAreReservedKeys) {
  Status st = store_->Put("a/.tmp-1", "x");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(base_ + "/a"));
  EXPECT_TRUE(store_->Put("a/x.tmp-1", "x").ok());
  EXPECT_TRUE(store_->Put(".tmp/x", "x").ok());  // only the last segment is reserved
}

TEST_F(LocalStoreTest, DeleteRemovesAndIsIdempotent) {
  ASSERT_TRUE(store_->Put("d/x", "1").ok());
  ASSERT_TRUE(store_->Put("d/y", "2").ok());
  EXPECT_TRUE(store_->Delete("d/x").ok());
  EXPECT_EQ(store_->Get("d/x").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("d/x").ok());
  EXPECT_TRUE(store_->Delete("nowhere/at/all").ok());
  EXPECT_TRUE(store_->Delete("d").ok());  // a folder is not an object: nothing deleted
  EXPECT_EQ(Keys(), std::vector<std::string>{"d/y"});
}

TEST_F(LocalStoreTest, CheckPassesAndLeavesNothingBehind) {
  Status st = store_->Check();
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Keys(), std::vector<std::string>{});
  EXPECT_EQ(AllFiles(), std::vector<std::string>{});
}

TEST_F(LocalStoreTest, CheckReportsTheFailingStep) {
  // The base is a file: the write step cannot create it.
  WriteFile(root_ + "/file-base", "x");
  auto store = LocalStore::Open(root_ + "/file-base");
  ASSERT_TRUE(store.ok());
  Status st = (*store)->Check();
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  const std::string expected_start =
      "storage check failed at write (" + root_ + "/file-base/.kalam-check/probe-";
  EXPECT_EQ(st.message().rfind(expected_start, 0), 0u)
      << st.message();
}

TEST_F(LocalStoreTest, HostileKeysAreRefusedAndTouchNothing) {
  ASSERT_TRUE(store_->Put("inside", "x").ok());
  WriteFile(root_ + "/outside", "secret");
  const std::vector<std::string> keys = {
      "..", "../outside", "a/../../outside", "/etc/passwd", "/" + root_ + "/outside", "a//b",
      "a/./b", "a\\..\\b", "a\0b"s, "a\nb", "", ".", "x/", std::string(2000, 'z')};
  for (const std::string& key : keys) {
    EXPECT_EQ(store_->Put(key, "pwned").code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Get(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Delete(key).code(), StatusCode::kInvalidArgument) << key;
  }
  EXPECT_EQ(store_->List("../").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->List("/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(root_ + "/outside"), "secret");
  EXPECT_EQ(AllFiles(), std::vector<std::string>{"inside"});
}

TEST_F(LocalStoreTest, SymlinkedDirectoryUnderTheBaseIsNeverFollowed) {
  ASSERT_TRUE(store_->Put("ok", "x").ok());
  fs::create_directories(root_ + "/outside");
  WriteFile(root_ + "/outside/secret", "secret");
  fs::create_directory_symlink(root_ + "/outside", base_ + "/escape");

  Status put = store_->Put("escape/secret", "pwned");
  EXPECT_EQ(put.code(), StatusCode::kIoError);
  EXPECT_EQ(put.message(), "'" + base_ +
                               "/escape' is a symbolic link; the storage refuses to follow links "
                               "below its base directory. Remove the link.");
  EXPECT_EQ(store_->Put("escape/new/file", "pwned").code(), StatusCode::kIoError);
  EXPECT_EQ(store_->Get("escape/secret").status().code(), StatusCode::kIoError);
  EXPECT_EQ(store_->Delete("escape/secret").code(), StatusCode::kIoError);
  EXPECT_EQ(store_->List("escape/").status().code(), StatusCode::kIoError);
  // A full listing skips the link instead of descending into it.
  EXPECT_EQ(Keys(), std::vector<std::string>{"ok"});
  EXPECT_EQ(ReadFile(root_ + "/outside/secret"), "secret");
  EXPECT_FALSE(fs::exists(root_ + "/outside/new"));
}

TEST_F(LocalStoreTest, SymlinkedObjectIsNeverFollowedOrReplaced) {
  ASSERT_TRUE(store_->Put("dir/ok", "x").ok());
  WriteFile(root_ + "/secret", "secret");
  fs::create_symlink(root_ + "/secret", base_ + "/dir/link");
  EXPECT_EQ(store_->Get("dir/link").status().code(), StatusCode::kIoError);
  EXPECT_EQ(store_->Put("dir/link", "pwned").code(), StatusCode::kIoError);
  EXPECT_EQ(store_->Delete("dir/link").code(), StatusCode::kIoError);
  EXPECT_EQ(ReadFile(root_ + "/secret"), "secret");
  EXPECT_TRUE(fs::is_symlink(base_ + "/dir/link"));
  EXPECT_EQ(Keys(), std::vector<std::string>{"dir/ok"});
}

TEST_F(LocalStoreTest, DeepSymlinkInTheMiddleOfAPathIsRefused) {
  ASSERT_TRUE(store_->Put("a/b/c/obj", "x").ok());
  fs::create_directories(root_ + "/elsewhere/d");
  fs::create_directory_symlink(root_ + "/elsewhere", base_ + "/a/b/link");
  EXPECT_EQ(store_->Put("a/b/link/d/obj", "pwned").code(), StatusCode::kIoError);
  EXPECT_FALSE(fs::exists(root_ + "/elsewhere/d/obj"));
  EXPECT_EQ(Keys("a/"), std::vector<std::string>{"a/b/c/obj"});
}

TEST_F(LocalStoreTest, BaseDirectoryItselfMayBeASymlink) {
  fs::create_directories(root_ + "/real");
  fs::create_directory_symlink(root_ + "/real", root_ + "/alias");
  auto store = LocalStore::Open(root_ + "/alias");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put("k", "v").ok());
  EXPECT_EQ(ReadFile(root_ + "/real/k"), "v");
}

TEST_F(LocalStoreTest, FileWhereADirectoryIsNeededIsAnIoError) {
  ASSERT_TRUE(store_->Put("f", "x").ok());
  Status st = store_->Put("f/g", "y");
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_EQ(st.message(), "'" + base_ + "/f' is a file, so no object can be stored below it");
  ASSERT_TRUE(store_->Put("dir/x", "x").ok());
  EXPECT_EQ(store_->Put("dir", "y").code(), StatusCode::kIoError);
}

TEST_F(LocalStoreTest, UncreatableBaseIsAnIoErrorWithPathAndCause) {
  // (Tests run as root here, so permissions cannot make a directory fail; a file in the way can.)
  WriteFile(root_ + "/plain-file", "x");
  auto store = LocalStore::Open(root_ + "/plain-file/base");
  ASSERT_TRUE(store.ok());
  Status st = (*store)->Put("k", "v");
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_EQ(st.message(), "opening storage base directory '" + root_ +
                              "/plain-file/base' failed: Not a directory");
  EXPECT_EQ((*store)->Get("k").status().code(), StatusCode::kIoError);
}

TEST_F(LocalStoreTest, UnicodeKeysWork) {
  ASSERT_TRUE(store_->Put("ключ/データ 🙂.parquet", "u").ok());
  EXPECT_EQ(*store_->Get("ключ/データ 🙂.parquet"), "u");
  EXPECT_EQ(Keys(), std::vector<std::string>{"ключ/データ 🙂.parquet"});
}

}  // namespace
}  // namespace kalam::filestore
