// The audit log (docs/audit.md): who did what security-relevant thing, when, from where, and
// whether it worked — logins, token refreshes, user, namespace, table and storage DDL, EXECUTE
// AS, KILL, BACKUP and RESTORE. Entries live in the `system` partition under `aud/` keys, owned by
// this file, and are read through system.audit_log.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "storage/kv_store.h"

namespace kalam::audit {

// One audit entry. Value type. Never holds passwords or tokens: SQL text is stored redacted
// (literals replaced by `?`).
struct AuditRecord {
  std::string audit_id;        // "audit_<ms>_<32 hex>", unique
  int64_t timestamp_us = 0;    // when it happened, µs since the epoch
  std::string actor_user_id;   // who acted (the caller; for a login, the name it claimed)
  std::string action;          // LOGIN, LOCKOUT, TOKEN_REFRESH, CREATE_USER, KILL_JOB, …
  std::string target;          // "user:alice", "namespace:app", "table:app.items", "job:<id>", …
  std::string details;         // a JSON object as text; empty = none
  std::string ip_address;      // the client's address; empty when not known
  std::string subject_user_id; // the user acted upon (user DDL, EXECUTE AS, login); empty = none
  std::string outcome;         // "success" or "failure"

  bool operator==(const AuditRecord&) const = default;
};

inline constexpr std::string_view kOutcomeSuccess = "success";
inline constexpr std::string_view kOutcomeFailure = "failure";

// The stored form (a JSON object) of `r`, and back. Decode fails with kCorruption naming the
// problem for text that is not an encoded record.
std::string EncodeAuditRecord(const AuditRecord& r);
Result<AuditRecord> DecodeAuditRecord(std::string_view text);

// The `system` partition key of an entry: "aud/" · timestamp (8 bytes big-endian, so keys sort
// by time) · audit_id.
std::string AuditKey(int64_t timestamp_us, std::string_view audit_id);

// Thread-safe.
class AuditLog {
 public:
  // `kv` and `clock` must outlive the log.
  AuditLog(storage::KvStore& kv, const Clock& clock);

  // Stores `r`, filling audit_id and timestamp_us (now) when they are empty/0; returns the stored
  // record. Written through the WAL: an entry Append returned survives kill -9. Failures are the
  // store's (kIoError).
  Result<AuditRecord> Append(AuditRecord r);

  // The newest `max_entries` entries, oldest first. kIoError / kCorruption from the store.
  Result<std::vector<AuditRecord>> ListNewest(size_t max_entries) const;

  // Deletes every entry older than `cutoff_us`; returns how many there were.
  Result<uint64_t> DeleteOlderThan(int64_t cutoff_us);

  // Retention: with `retention` > 0, deletes entries older than now − retention, at most once a
  // minute by the clock (the first call always runs). Failures are logged, not returned: it runs
  // from the job scheduler, which has no caller to tell.
  void PruneIfDue(std::chrono::hours retention);

 private:
  std::string NewId(int64_t timestamp_us);

  storage::KvStore& kv_;
  const Clock& clock_;
  std::mutex mu_;           // guards rng_ and last_prune_us_
  std::mt19937_64 rng_;
  int64_t last_prune_us_ = 0;
};

}  // namespace kalam::audit
