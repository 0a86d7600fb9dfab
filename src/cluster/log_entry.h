// The payload of one Raft log entry: a versioned, checksummed envelope around what the state
// machine applies (one commit group of a shard's pipeline, or one catalog change of the meta group),
// and the same envelope around state-machine snapshots.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam::cluster {

enum class EntryKind : uint8_t {
  kCommitGroup = 1,    // a shard's commit group: its KV writes and change records, `_seq`s stamped
  kCatalogChange = 2,  // a DDL change, applied by the meta group
  kSnapshot = 3,       // a state-machine snapshot (never a log entry; FsmBridge refuses it there)
};

struct LogEntry {
  EntryKind kind = EntryKind::kCommitGroup;
  std::string payload;

  bool operator==(const LogEntry&) const = default;
};

// The current envelope version; DecodeLogEntry refuses any other.
inline constexpr uint8_t kLogEntryVersion = 1;
// version(1) kind(1) payload length(4, BE) CRC-32 of kind and payload(4, BE).
inline constexpr size_t kLogEntryHeaderBytes = 10;

// The bytes stored in the log: header and payload, padded with zero bytes to a multiple of 8.
// libraft 0.15 lays entries out on disk and on the wire in 8-byte words and hands a replica the
// padded length, so every buffer given to raft_apply must already be a multiple of 8 bytes.
// Payloads are limited to 4 GiB - 1 (callers stay far below).
std::string EncodeLogEntry(const LogEntry& entry);

// Parses and verifies an entry, with or without its zero padding. kCorruption, naming what is
// wrong, when the envelope is short, of an unknown version or kind, its length disagrees with
// the bytes (beyond up to 7 zero padding bytes), or the checksum fails: a replica must never
// apply bytes it cannot trust.
Result<LogEntry> DecodeLogEntry(std::string_view bytes);

}  // namespace kalam::cluster
