// Log entry envelope: encoding and verification.
#include "cluster/log_entry.h"

#include <zlib.h>

namespace kalam::cluster {

namespace {

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t GetU32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

uint32_t Checksum(EntryKind kind, std::string_view payload) {
  const auto kind_byte = static_cast<Bytef>(kind);
  uLong crc = crc32(0L, &kind_byte, 1);
  // zlib takes uInt lengths; feed large payloads in pieces.
  size_t done = 0;
  while (done < payload.size()) {
    const size_t piece = std::min<size_t>(payload.size() - done, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data() + done), static_cast<uInt>(piece));
    done += piece;
  }
  return static_cast<uint32_t>(crc);
}

bool KnownKind(uint8_t kind) {
  return kind == static_cast<uint8_t>(EntryKind::kCommitGroup) ||
         kind == static_cast<uint8_t>(EntryKind::kCatalogChange) ||
         kind == static_cast<uint8_t>(EntryKind::kSnapshot);
}

}  // namespace

std::string EncodeLogEntry(const LogEntry& entry) {
  std::string out;
  out.reserve(kLogEntryHeaderBytes + entry.payload.size());
  out.push_back(static_cast<char>(kLogEntryVersion));
  out.push_back(static_cast<char>(entry.kind));
  PutU32(&out, static_cast<uint32_t>(entry.payload.size()));
  PutU32(&out, Checksum(entry.kind, entry.payload));
  out += entry.payload;
  out.resize((out.size() + 7) / 8 * 8, '\0');
  return out;
}

Result<LogEntry> DecodeLogEntry(std::string_view bytes) {
  if (bytes.size() < kLogEntryHeaderBytes) {
    return Status::Corruption("Raft log entry is " + std::to_string(bytes.size()) +
                              " bytes, shorter than its 10-byte header");
  }
  const auto version = static_cast<uint8_t>(bytes[0]);
  if (version != kLogEntryVersion) {
    return Status::Corruption("Raft log entry has version " + std::to_string(version) +
                              "; this server reads version " + std::to_string(kLogEntryVersion));
  }
  const auto kind = static_cast<uint8_t>(bytes[1]);
  if (!KnownKind(kind)) {
    return Status::Corruption("Raft log entry has unknown kind " + std::to_string(kind));
  }
  const uint32_t length = GetU32(bytes.substr(2));
  const size_t unpadded = kLogEntryHeaderBytes + length;
  const size_t padded = (unpadded + 7) / 8 * 8;
  if (bytes.size() == padded && bytes.size() > unpadded &&
      bytes.substr(unpadded).find_first_not_of('\0') == std::string_view::npos) {
    bytes = bytes.substr(0, unpadded);
  }
  if (length != bytes.size() - kLogEntryHeaderBytes) {
    return Status::Corruption("Raft log entry declares " + std::to_string(length) +
                              " payload bytes but carries " +
                              std::to_string(bytes.size() - kLogEntryHeaderBytes));
  }
  LogEntry entry;
  entry.kind = static_cast<EntryKind>(kind);
  entry.payload = std::string(bytes.substr(kLogEntryHeaderBytes));
  if (GetU32(bytes.substr(6)) != Checksum(entry.kind, entry.payload)) {
    return Status::Corruption("Raft log entry checksum mismatch");
  }
  return entry;
}

}  // namespace kalam::cluster
