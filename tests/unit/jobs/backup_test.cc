// Backup pieces that need no server: backup.json, the path rules, verification.
#include "jobs/backup.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "../storage/temp_dir.h"
#include "filestore/sha256.h"

namespace kalam::jobs {
namespace {

namespace fs = std::filesystem;
using storage::TempDir;

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A backup directory holding one file, described by a valid backup.json.
// A manifest entry for a plain file (not a segment, not taken over from a base backup).
BackupFile File(std::string path, uint64_t size_bytes, std::string sha256) {
  BackupFile f;
  f.path = std::move(path);
  f.size_bytes = size_bytes;
  f.sha256 = std::move(sha256);
  return f;
}

BackupManifest MakeBackup(const std::string& dir) {
  WriteText(dir + "/rocks/CURRENT", "MANIFEST-000001\n");
  BackupManifest m;
  m.server_version = "test";
  m.seq = 42;
  m.created_at_ms = 1700000000000;
  m.storages.push_back({"local", "filesystem", "/data/storage", true});
  m.files.push_back(File("rocks/CURRENT", 16, filestore::Sha256Hex("MANIFEST-000001\n")));
  WriteText(dir + "/backup.json", m.ToJson());
  return m;
}

TEST(BackupManifestTest, JsonRoundTripsEveryField) {
  BackupManifest m;
  m.server_version = "1.2.3";
  m.seq = 388250473234173952;
  m.created_at_ms = 1796633326168;
  m.storages.push_back({"archive", "filesystem", "/srv/archive", true});
  m.storages.push_back({"s3", "s3", "s3://b/p", false});
  m.files.push_back(File("storages/archive/a/batch-1.parquet", 1312, std::string(64, 'a')));
  auto back = BackupManifest::FromJson(m.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->seq, m.seq);
  EXPECT_EQ(back->created_at_ms, m.created_at_ms);
  ASSERT_EQ(back->storages.size(), 2u);
  EXPECT_FALSE(back->storages[1].included);
  ASSERT_EQ(back->files.size(), 1u);
  EXPECT_EQ(back->files[0].path, m.files[0].path);
  EXPECT_EQ(back->total_bytes(), 1312u);
}

TEST(BackupManifestTest, FilePathsThatLeaveTheBackupAreCorruption) {
  for (const char* path : {"../outside", "/etc/passwd", "rocks/../../x", ""}) {
    BackupManifest m;
    m.files.push_back(File(path, 1, std::string(64, 'a')));
    auto back = BackupManifest::FromJson(m.ToJson());
    ASSERT_FALSE(back.ok()) << path;
    EXPECT_EQ(back.status().code(), StatusCode::kCorruption) << path;
  }
  EXPECT_EQ(BackupManifest::FromJson("{\"format_version\":2}").status().message(),
            "backup.json is not a valid backup manifest: format_version 2 is not supported (1 is)");
}

TEST(ResolveBackupDirTest, OnlyPathsInsideARootAfterSymlinksAreAllowed) {
  TempDir dir;
  const std::string root = dir.Sub("backups");
  fs::create_directories(root);
  fs::create_directories(dir.Sub("outside"));
  fs::create_directory_symlink(dir.Sub("outside"), root + "/link");
  auto ok = ResolveBackupDir(root + "/nightly/1", {root});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, fs::weakly_canonical(root + "/nightly/1").string());
  for (const std::string& bad : {dir.Sub("outside/x"), root + "/link/x", dir.Sub("backups-evil"),
                                 root}) {
    auto r = ResolveBackupDir(bad, {root});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(), "Backup path '" + bad +
                                        "' is outside the allowed backup directories "
                                        "(backup.allowed_dirs: '" + root + "')");
  }
  EXPECT_FALSE(ResolveBackupDir(root + "/x", {}).ok());
}

TEST(ResolveBackupDirTest, TheDefaultRootIsBesideTheDataDirectory) {
  EXPECT_EQ(EffectiveBackupRoots({}, "/srv/kalam/data"),
            std::vector<std::string>{"/srv/kalam/backups"});
  EXPECT_EQ(EffectiveBackupRoots({"/b"}, "/srv/kalam/data"), std::vector<std::string>{"/b"});
}

TEST(VerifyBackupTest, NamesTheFirstDamagedOrMissingFile) {
  TempDir dir;
  const std::string b = dir.Sub("b");
  MakeBackup(b);
  auto ok = VerifyBackup(b);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->seq, 42);

  WriteText(b + "/rocks/CURRENT", "MANIFEST-000002\n");  // same size, other bytes
  EXPECT_EQ(VerifyBackup(b).status().message(),
            "Backup file 'rocks/CURRENT' is damaged: SHA-256 mismatch");
  WriteText(b + "/rocks/CURRENT", "MANIFEST\n");
  EXPECT_EQ(VerifyBackup(b).status().message(),
            "Backup file 'rocks/CURRENT' is damaged: 9 bytes, expected 16");
  fs::remove(b + "/rocks/CURRENT");
  EXPECT_EQ(VerifyBackup(b).status().message(), "Backup file 'rocks/CURRENT' is missing");
  EXPECT_EQ(VerifyBackup(dir.Sub("none")).status().code(), StatusCode::kNotFound);
}

TEST(RestoreBackupTest, ADamagedBackupLeavesTheTargetUntouched) {
  TempDir dir;
  const std::string b = dir.Sub("b");
  MakeBackup(b);
  WriteText(b + "/rocks/CURRENT", "MANIFEST-000009\n");
  auto r = RestoreBackup(b, dir.Sub("target"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Backup file 'rocks/CURRENT' is damaged: SHA-256 mismatch");
  EXPECT_FALSE(fs::exists(dir.Sub("target")));
  EXPECT_FALSE(fs::exists(dir.Sub("target.restoring")));
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

TEST(ApplyStagedRestoreTest, NothingStagedChangesNothing) {
  TempDir dir;
  WriteText(dir.Sub("rocks/f"), "live");
  auto applied = ApplyStagedRestore(dir.path());
  ASSERT_TRUE(applied.ok());
  EXPECT_FALSE(*applied);
  EXPECT_EQ(ReadText(dir.Sub("rocks/f")), "live");
}

TEST(ApplyStagedRestoreTest, SwapsEveryEntryAndResumesAfterACrashMidway) {
  TempDir dir;
  WriteText(dir.Sub("rocks/f"), "old rocks");
  WriteText(dir.Sub("storage/f"), "old storage");
  WriteText(dir.Sub("restore_pending/rocks/f"), "new rocks");
  WriteText(dir.Sub("restore_pending/storage/f"), "new storage");
  WriteText(dir.Sub("restore_pending/restored_storages/a/f"), "new archive");
  // A crash after the first rename of the first entry: the live `rocks` is aside, the new one
  // not yet in place.
  fs::create_directories(dir.Sub("restore_replaced"));
  fs::rename(dir.Sub("rocks"), dir.Sub("restore_replaced/rocks"));
  auto applied = ApplyStagedRestore(dir.path());
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_TRUE(*applied);
  EXPECT_EQ(ReadText(dir.Sub("rocks/f")), "new rocks");
  EXPECT_EQ(ReadText(dir.Sub("storage/f")), "new storage");
  EXPECT_EQ(ReadText(dir.Sub("restored_storages/a/f")), "new archive");
  EXPECT_FALSE(fs::exists(dir.Sub("restore_pending")));
  EXPECT_FALSE(fs::exists(dir.Sub("restore_replaced")));
  // An unfinished staging (no rename to restore_pending yet) is never applied.
  WriteText(dir.Sub("restore_pending.tmp/rocks/f"), "half");
  applied = ApplyStagedRestore(dir.path());
  ASSERT_TRUE(applied.ok());
  EXPECT_FALSE(*applied);
  EXPECT_EQ(ReadText(dir.Sub("rocks/f")), "new rocks");
  EXPECT_FALSE(fs::exists(dir.Sub("restore_pending.tmp")));
}

}  // namespace
}  // namespace kalam::jobs
