// AuditLog: the `aud/` keys of the `system` partition and their JSON values.
#include "audit/audit_log.h"

#include <algorithm>
#include <cstdio>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

namespace kalam::audit {

namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "aud/";
// Past every "aud/…" key.
constexpr std::string_view kPrefixEnd = "aud0";

void AppendBigEndian(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

}  // namespace

std::string EncodeAuditRecord(const AuditRecord& r) {
  json::object o{
      {"audit_id", r.audit_id},
      {"timestamp_us", r.timestamp_us},
      {"actor_user_id", r.actor_user_id},
      {"action", r.action},
      {"target", r.target},
      {"details", r.details},
      {"ip_address", r.ip_address},
      {"subject_user_id", r.subject_user_id},
      {"outcome", r.outcome},
  };
  return json::serialize(o);
}

Result<AuditRecord> DecodeAuditRecord(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) {
    return Status::Corruption("Audit entry is not a JSON object");
  }
  const json::object& o = v.as_object();
  AuditRecord r;
  auto str = [&](std::string_view key, std::string* out) -> Status {
    const json::value* f = o.if_contains(key);
    if (!f || !f->is_string()) {
      return Status::Corruption("Audit entry has no text field '" + std::string(key) + "'");
    }
    *out = std::string(f->as_string());
    return Status::OK();
  };
  KALAM_RETURN_IF_ERROR(str("audit_id", &r.audit_id));
  KALAM_RETURN_IF_ERROR(str("actor_user_id", &r.actor_user_id));
  KALAM_RETURN_IF_ERROR(str("action", &r.action));
  KALAM_RETURN_IF_ERROR(str("target", &r.target));
  KALAM_RETURN_IF_ERROR(str("details", &r.details));
  KALAM_RETURN_IF_ERROR(str("ip_address", &r.ip_address));
  KALAM_RETURN_IF_ERROR(str("subject_user_id", &r.subject_user_id));
  KALAM_RETURN_IF_ERROR(str("outcome", &r.outcome));
  const json::value* ts = o.if_contains("timestamp_us");
  if (!ts || !ts->is_int64()) {
    return Status::Corruption("Audit entry has no integer field 'timestamp_us'");
  }
  r.timestamp_us = ts->as_int64();
  return r;
}

std::string AuditKey(int64_t timestamp_us, std::string_view audit_id) {
  std::string key(kPrefix);
  AppendBigEndian(static_cast<uint64_t>(timestamp_us < 0 ? 0 : timestamp_us), &key);
  key += audit_id;
  return key;
}

AuditLog::AuditLog(storage::KvStore& kv, const Clock& clock)
    : kv_(kv), clock_(clock), rng_(std::random_device{}()) {}

std::string AuditLog::NewId(int64_t timestamp_us) {
  uint64_t a, b;
  {
    std::lock_guard lock(mu_);
    a = rng_();
    b = rng_();
  }
  char hex[33];
  std::snprintf(hex, sizeof(hex), "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return "audit_" + std::to_string(timestamp_us / 1000) + "_" + hex;
}

Result<AuditRecord> AuditLog::Append(AuditRecord r) {
  if (r.timestamp_us == 0) r.timestamp_us = clock_.NowMicros();
  if (r.audit_id.empty()) r.audit_id = NewId(r.timestamp_us);
  storage::WriteBatch batch;
  batch.Put(storage::Partition::kSystem, AuditKey(r.timestamp_us, r.audit_id),
            EncodeAuditRecord(r));
  KALAM_RETURN_IF_ERROR(kv_.Write(batch));
  return r;
}

Result<std::vector<AuditRecord>> AuditLog::ListNewest(size_t max_entries) const {
  storage::ReadOptions ro;
  ro.lower_bound = std::string(kPrefix);
  ro.upper_bound = std::string(kPrefixEnd);
  auto it = kv_.NewIterator(storage::Partition::kSystem, ro);
  std::vector<AuditRecord> out;
  for (it->SeekToLast(); it->Valid() && out.size() < max_entries; it->Prev()) {
    KALAM_ASSIGN_OR_RETURN(AuditRecord r, DecodeAuditRecord(it->value()));
    out.push_back(std::move(r));
  }
  KALAM_RETURN_IF_ERROR(it->status());
  std::reverse(out.begin(), out.end());
  return out;
}

Result<uint64_t> AuditLog::DeleteOlderThan(int64_t cutoff_us) {
  const std::string end = AuditKey(cutoff_us, "");
  storage::ReadOptions ro;
  ro.lower_bound = std::string(kPrefix);
  ro.upper_bound = end;
  auto it = kv_.NewIterator(storage::Partition::kSystem, ro);
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  KALAM_RETURN_IF_ERROR(it->status());
  if (n == 0) return n;
  storage::WriteBatch batch;
  batch.DeleteRange(storage::Partition::kSystem, kPrefix, end);
  KALAM_RETURN_IF_ERROR(kv_.Write(batch));
  return n;
}

void AuditLog::PruneIfDue(std::chrono::hours retention) {
  if (retention.count() <= 0) return;
  const int64_t now = clock_.NowMicros();
  {
    std::lock_guard lock(mu_);
    if (last_prune_us_ != 0 && now - last_prune_us_ < 60 * int64_t{1000000}) return;
    last_prune_us_ = now;
  }
  const int64_t cutoff =
      now - std::chrono::duration_cast<std::chrono::microseconds>(retention).count();
  auto deleted = DeleteOlderThan(cutoff);
  if (!deleted.ok()) {
    spdlog::error("Audit log retention: {}", deleted.status().ToString());
  } else if (*deleted > 0) {
    spdlog::info("Audit log retention: deleted {} entries older than {} days", *deleted,
                 retention.count() / 24);
  }
}

}  // namespace kalam::audit
