// Tests for the audit log: record encoding, keys in time order, listing and retention.
#include "audit/audit_log.h"

#include <gtest/gtest.h>

namespace kalam::audit {
namespace {

AuditRecord Sample() {
  AuditRecord r;
  r.audit_id = "audit_1767225600000_00000000000000000000000000000001";
  r.timestamp_us = 1767225600000123;
  r.actor_user_id = "root";
  r.action = "ALTER_USER";
  r.target = "user:alice";
  r.details = "{\"change\":\"role\",\"role\":\"dba\"}";
  r.ip_address = "127.0.0.1";
  r.subject_user_id = "alice";
  r.outcome = "success";
  return r;
}

TEST(AuditRecordTest, EncodeDecodeRoundTrip) {
  const AuditRecord r = Sample();
  EXPECT_EQ(EncodeAuditRecord(r),
            "{\"audit_id\":\"audit_1767225600000_00000000000000000000000000000001\","
            "\"timestamp_us\":1767225600000123,\"actor_user_id\":\"root\",\"action\":\"ALTER_USER\","
            "\"target\":\"user:alice\",\"details\":\"{\\\"change\\\":\\\"role\\\",\\\"role\\\":"
            "\\\"dba\\\"}\",\"ip_address\":\"127.0.0.1\",\"subject_user_id\":\"alice\","
            "\"outcome\":\"success\"}");
  auto back = DecodeAuditRecord(EncodeAuditRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(AuditRecordTest, DecodeRejectsDamagedEntries) {
  auto bad = DecodeAuditRecord("[1]");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(bad.status().message(), "Audit entry is not a JSON object");
  auto missing = DecodeAuditRecord("{\"audit_id\":\"a\"}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "Audit entry has no text field 'actor_user_id'");
}

TEST(AuditRecordTest, KeysSortByTime) {
  EXPECT_LT(AuditKey(255, "b"), AuditKey(256, "a"));
  EXPECT_EQ(AuditKey(1, "x"), std::string("aud/\0\0\0\0\0\0\0\x01x", 13));
}

TEST(AuditLogTest, AppendFillsIdAndTimeAndListsNewestOldestFirst) {
  auto kv = storage::NewMemoryStore();
  FakeClock clock(1767225600000000);
  AuditLog log(*kv, clock);
  for (int i = 0; i < 3; ++i) {
    AuditRecord r;
    r.action = "LOGIN";
    r.actor_user_id = "u" + std::to_string(i);
    r.outcome = "success";
    auto stored = log.Append(r);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->timestamp_us, clock.NowMicros());
    EXPECT_EQ(stored->audit_id.substr(0, 20), "audit_" + std::to_string(clock.NowMillis()) + "_");
    EXPECT_EQ(stored->audit_id.size(), 20u + 32u);
    clock.AdvanceSeconds(1);
  }
  auto two = log.ListNewest(2);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].actor_user_id, "u1");
  EXPECT_EQ((*two)[1].actor_user_id, "u2");
}

TEST(AuditLogTest, RetentionDeletesOnlyOldEntriesAtMostOnceAMinute) {
  auto kv = storage::NewMemoryStore();
  FakeClock clock(1767225600000000);
  AuditLog log(*kv, clock);
  auto add = [&](const char* who) {
    AuditRecord r;
    r.actor_user_id = who;
    r.action = "LOGIN";
    r.outcome = "success";
    ASSERT_TRUE(log.Append(r).ok());
  };
  add("old");
  clock.AdvanceSeconds(86400 * 2);  // two days later
  add("new");
  log.PruneIfDue(std::chrono::hours(24 * 3));  // 3-day retention: nothing is old enough
  ASSERT_EQ(log.ListNewest(10)->size(), 2u);
  clock.AdvanceSeconds(86400 - 10);  // "old" is 10 s short of 3 days
  log.PruneIfDue(std::chrono::hours(24 * 3));
  ASSERT_EQ(log.ListNewest(10)->size(), 2u);
  clock.AdvanceSeconds(30);  // now 20 s past 3 days, but within a minute of the last pass
  log.PruneIfDue(std::chrono::hours(24 * 3));  // skipped
  ASSERT_EQ(log.ListNewest(10)->size(), 2u);
  clock.AdvanceSeconds(31);
  log.PruneIfDue(std::chrono::hours(24 * 3));
  auto left = log.ListNewest(10);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].actor_user_id, "new");
  log.PruneIfDue(std::chrono::hours(0));  // 0 = kept forever
  EXPECT_EQ(log.ListNewest(10)->size(), 1u);
  auto none = log.DeleteOlderThan(0);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
}

}  // namespace
}  // namespace kalam::audit
