// The snapshot file route's path check: only "<group>/<index>/keys.kv" is ever served.
#include "api/snapshot_routes.h"

#include <gtest/gtest.h>

namespace kalam::api {
namespace {

TEST(SnapshotRoutesTest, OnlySnapshotFileNamesAreAccepted) {
  EXPECT_TRUE(IsSnapshotFilePath("shared/1024/keys.kv"));
  EXPECT_TRUE(IsSnapshotFilePath("user_3/0/keys.kv"));
  for (const char* bad :
       {"", "keys.kv", "shared/keys.kv", "shared/1024", "shared/1024/", "shared/1024/keys.kv/",
        "shared/1024/other.kv", "../1024/keys.kv", "shared/../keys.kv", "shared/1024/../keys.kv",
        "/shared/1024/keys.kv", "/etc/passwd", "shared//keys.kv", "Shared/1/keys.kv",
        "shared/1a/keys.kv", "shared/%2e%2e/keys.kv", "sh.ared/1/keys.kv",
        "shared/123456789012345678901/keys.kv"}) {
    EXPECT_FALSE(IsSnapshotFilePath(bad)) << bad;
  }
}

}  // namespace
}  // namespace kalam::api
