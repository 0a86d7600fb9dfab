// ZipWriter implementation over zlib's raw deflate and crc32.
#include "common/zip_writer.h"

#include <zlib.h>

#include <ctime>
#include <limits>

namespace kalam {

namespace {

constexpr uint64_t kMaxZipBytes = std::numeric_limits<uint32_t>::max();
constexpr size_t kMaxEntries = 0xFFFF;
constexpr uint16_t kVersionNeeded = 20;  // 2.0: Deflate
constexpr uint16_t kMethodDeflate = 8;
constexpr uint16_t kFlagUtf8 = 1 << 11;  // names are UTF-8

void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xFF));
  out->push_back(static_cast<char>(v >> 8));
}

void Put32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Raw Deflate (no zlib header: window bits -15) of `in` at level 6.
Result<std::string> Deflate(std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("ZIP: zlib deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const uLong written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::Internal("ZIP: zlib deflate failed");
  out.resize(written);
  return out;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.size() > 0xFFFF) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return name.find('\\') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

}  // namespace

ZipWriter::ZipWriter(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (tm.tm_year < 80) {
    tm = std::tm{};
    tm.tm_mday = 1;
    tm.tm_year = 80;
  }
  dos_time_ = static_cast<uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
  dos_date_ = static_cast<uint16_t>(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) |
                                    tm.tm_mday);
}

Status ZipWriter::Add(std::string_view name, std::string_view data) {
  if (!ValidName(name)) {
    return Status::InvalidArgument("ZIP entry name '" + std::string(name) +
                                   "' is not a relative path");
  }
  for (const auto& e : central_) {
    if (e.name == name) {
      return Status::InvalidArgument("ZIP entry '" + std::string(name) + "' is already present");
    }
  }
  if (central_.size() >= kMaxEntries) {
    return Status::ResourceExhausted("ZIP archive would have more than 65535 entries");
  }
  if (data.size() > kMaxZipBytes) {
    return Status::ResourceExhausted("ZIP entry '" + std::string(name) +
                                     "' is larger than 4 GiB (ZIP64 is not supported)");
  }
  KALAM_ASSIGN_OR_RETURN(std::string packed, Deflate(data));
  const uint64_t after = out_.size() + 30 + name.size() + packed.size();
  // The central directory must fit too: 46 bytes + name per entry, 22 for the end record.
  uint64_t directory = 22;
  for (const auto& e : central_) directory += 46 + e.name.size();
  directory += 46 + name.size();
  if (after + directory > kMaxZipBytes) {
    return Status::ResourceExhausted(
        "The ZIP archive would be larger than 4 GiB (ZIP64 is not supported)");
  }
  CentralEntry e;
  e.name = std::string(name);
  e.crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  e.compressed = static_cast<uint32_t>(packed.size());
  e.uncompressed = static_cast<uint32_t>(data.size());
  e.offset = static_cast<uint32_t>(out_.size());
  Put32(&out_, 0x04034b50);
  Put16(&out_, kVersionNeeded);
  PutEntryFields(e);
  out_.append(name);
  out_.append(packed);
  central_.push_back(std::move(e));
  return Status::OK();
}

void ZipWriter::PutEntryFields(const CentralEntry& e) {
  Put16(&out_, kFlagUtf8);
  Put16(&out_, kMethodDeflate);
  Put16(&out_, dos_time_);
  Put16(&out_, dos_date_);
  Put32(&out_, e.crc);
  Put32(&out_, e.compressed);
  Put32(&out_, e.uncompressed);
  Put16(&out_, static_cast<uint16_t>(e.name.size()));
  Put16(&out_, 0);  // extra field length
}

Result<std::string> ZipWriter::Finish() {
  const uint32_t directory_offset = static_cast<uint32_t>(out_.size());
  for (const auto& e : central_) {
    Put32(&out_, 0x02014b50);
    Put16(&out_, (3 << 8) | kVersionNeeded);  // made by: Unix, 2.0
    Put16(&out_, kVersionNeeded);
    PutEntryFields(e);
    Put16(&out_, 0);  // comment length
    Put16(&out_, 0);  // disk number start
    Put16(&out_, 0);  // internal attributes
    Put32(&out_, 0100644u << 16);  // external attributes: a regular file, rw-r--r--
    Put32(&out_, e.offset);
    out_.append(e.name);
  }
  const uint32_t directory_size = static_cast<uint32_t>(out_.size() - directory_offset);
  Put32(&out_, 0x06054b50);
  Put16(&out_, 0);  // this disk
  Put16(&out_, 0);  // disk with the directory
  Put16(&out_, static_cast<uint16_t>(central_.size()));
  Put16(&out_, static_cast<uint16_t>(central_.size()));
  Put32(&out_, directory_size);
  Put32(&out_, directory_offset);
  Put16(&out_, 0);  // comment length
  central_.clear();
  return std::move(out_);
}

}  // namespace kalam
