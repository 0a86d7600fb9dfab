// How RocksDB failures become KalamDB Statuses (codes for programs, messages for people).
#include "storage/rocks_status.h"

#include <gtest/gtest.h>

namespace kalam::storage {
namespace {

TEST(RocksStatusTest, OkStaysOk) {
  EXPECT_TRUE(FromRocksStatus(rocksdb::Status::OK(), "Storage write").ok());
  EXPECT_TRUE(FromRocksOpenStatus(rocksdb::Status::OK(), "/x").ok());
}

TEST(RocksStatusTest, CodesFollowTheKindOfFailure) {
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::IOError("disk"), "w").code(), StatusCode::kIoError);
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::Corruption("bad block"), "w").code(),
            StatusCode::kCorruption);
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::NotFound(), "w").code(), StatusCode::kNotFound);
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::InvalidArgument("x"), "w").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::ShutdownInProgress(), "w").code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::TimedOut(), "w").code(), StatusCode::kUnavailable);
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::Busy(), "w").code(), StatusCode::kConflict);
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::TryAgain(), "w").code(), StatusCode::kConflict);
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::Aborted("snapshots"), "w").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(FromRocksStatus(rocksdb::Status::NotSupported("x"), "w").code(),
            StatusCode::kInternal);
}

TEST(RocksStatusTest, MessageNamesTheOperationAndTheReason) {
  Status s = FromRocksStatus(rocksdb::Status::IOError("No space left on device"), "Storage write");
  EXPECT_EQ(s.message(), "Storage write failed: IO error: No space left on device");
}

TEST(RocksStatusTest, OpenFailureNamesThePath) {
  Status s = FromRocksOpenStatus(rocksdb::Status::IOError("While mkdir if missing: /x/rocks",
                                                          "Permission denied"),
                                 "/x/rocks");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_EQ(s.message().rfind("Cannot open data directory '/x/rocks': ", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("Permission denied"), std::string::npos);
  EXPECT_EQ(s.message().find("Another KalamDB process"), std::string::npos);
}

TEST(RocksStatusTest, HeldLockGetsAHint) {
  Status s = FromRocksOpenStatus(
      rocksdb::Status::IOError("While lock file: /x/rocks/LOCK",
                               "Resource temporarily unavailable"),
      "/x/rocks");
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_NE(s.message().find("Another KalamDB process"), std::string::npos) << s.message();
}

TEST(RocksStatusTest, CorruptDirectoryIsCorruption) {
  Status s = FromRocksOpenStatus(rocksdb::Status::Corruption("MANIFEST"), "/x/rocks");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("'/x/rocks'"), std::string::npos);
}

}  // namespace
}  // namespace kalam::storage
