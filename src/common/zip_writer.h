// ZipWriter: builds a ZIP archive (PKWARE APPNOTE 6.3: local file headers, central directory, end
// record) in memory, each entry raw-Deflate compressed with its CRC-32 from zlib. No ZIP64: an
// archive, entry or entry count past the 32/16-bit fields is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam {

// Not thread-safe; one writer per archive.
class ZipWriter {
 public:
  // `dos_time_unix_seconds` stamps every entry's modification time (UTC, to 2-second DOS
  // precision; times before 1980 are written as 1980-01-01).
  explicit ZipWriter(int64_t dos_time_unix_seconds = 0);

  // Appends entry `name` (a relative path with '/' separators; no leading '/', no "..", not
  // empty) holding `data`, Deflate level 6. kInvalidArgument for a bad or repeated name;
  // kResourceExhausted when the archive would pass 4 GiB or 65535 entries (no ZIP64).
  Status Add(std::string_view name, std::string_view data);

  // The complete archive (the entries so far, the central directory and the end record). The
  // writer is left empty.
  Result<std::string> Finish();

  size_t entries() const { return central_.size(); }
  // Bytes of the archive so far (entries only, without the directory Finish adds).
  uint64_t size() const { return out_.size(); }

 private:
  struct CentralEntry {
    std::string name;
    uint32_t crc = 0;
    uint32_t compressed = 0;
    uint32_t uncompressed = 0;
    uint32_t offset = 0;
  };
  // The fields local header and central directory share, from the flags to the extra length.
  void PutEntryFields(const CentralEntry& e);

  uint16_t dos_time_ = 0;
  uint16_t dos_date_ = 0;
  std::string out_;
  std::vector<CentralEntry> central_;
};

}  // namespace kalam
