// parquet_bench: flush and cold-scan speed of the Parquet codec on a chat-message table.
//
//   parquet_bench [rows=1000000] [rows_per_row_group=1000000] [out=/tmp/parquet_bench.parquet]
//
// Builds `rows` messages (BIGINT id, TEXT room with ~100 distinct values, TEXT body of ~60 bytes,
// TIMESTAMP, BOOLEAN, nullable INT), writes them with ZSTD (the default options) and writes the
// file to disk, then opens it from memory and decodes every column of every row group: with
// ReadColumn, with the allocation-reusing ReadColumnInto, and with ReadByteArrays for the string
// columns. Prints MB, write seconds and read rows/s. Linked with jemalloc, like kalamdb-server.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "parquet/parquet.h"

using namespace kalam;
using namespace kalam::parquet;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// CPU seconds of this process: on a shared machine this is steadier than wall time.
double CpuSeconds(std::clock_t since) {
  return static_cast<double>(std::clock() - since) / CLOCKS_PER_SEC;
}

std::vector<ColumnSchema> ChatSchema() {
  std::vector<ColumnSchema> s(6);
  s[0] = {.name = "id", .physical = PhysicalType::kInt64, .nullable = false};
  s[1] = {.name = "room", .physical = PhysicalType::kByteArray, .logical = LogicalKind::kString,
          .nullable = false};
  s[2] = {.name = "body", .physical = PhysicalType::kByteArray, .logical = LogicalKind::kString};
  s[3] = {.name = "created_at", .physical = PhysicalType::kInt64,
          .logical = LogicalKind::kTimestamp, .nullable = false, .utc_adjusted = true};
  s[4] = {.name = "edited", .physical = PhysicalType::kBoolean, .nullable = false};
  s[5] = {.name = "reply_count", .physical = PhysicalType::kInt32, .logical = LogicalKind::kInt,
          .int_bit_width = 32};
  return s;
}

// Columns for rows [begin, end) of the deterministic message stream.
std::vector<ColumnVector> MakeMessages(size_t begin, size_t end, std::mt19937_64& rng) {
  static const char* kWords[] = {"hello", "world", "kalam", "parquet", "message", "room",
                                 "reply", "thanks", "see", "you", "later", "ok", "sure",
                                 "meeting", "at", "noon", "lunch", "coffee", "deploy", "fix"};
  const size_t n = end - begin;
  std::vector<ColumnVector> cols(6);
  cols[0].i64.reserve(n);
  cols[1].bytes.reserve(n);
  cols[2].bytes.reserve(n);
  cols[3].i64.reserve(n);
  cols[4].b.reserve(n);
  cols[5].i32.reserve(n);
  cols[5].present.reserve(n);
  int64_t ts = 1700000000000000 + static_cast<int64_t>(begin) * 1500;
  for (size_t i = begin; i < end; ++i) {
    cols[0].i64.push_back(static_cast<int64_t>(i) * 4096 + static_cast<int64_t>(rng() % 4096));
    cols[1].bytes.push_back("room-" + std::to_string(rng() % 100));
    std::string body;
    while (body.size() < 55) {
      if (!body.empty()) body.push_back(' ');
      body += kWords[rng() % 20];
    }
    cols[2].bytes.push_back(std::move(body));
    ts += static_cast<int64_t>(rng() % 3000);
    cols[3].i64.push_back(ts);
    cols[4].b.push_back(rng() % 10 == 0);
    bool has_replies = rng() % 3 != 0;
    cols[5].present.push_back(has_replies);
    cols[5].i32.push_back(has_replies ? static_cast<int32_t>(rng() % 50) : 0);
  }
  return cols;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const size_t group_rows = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const std::string path = argc > 3 ? argv[3] : "/tmp/parquet_bench.parquet";

  std::mt19937_64 rng(42);
  std::vector<std::vector<ColumnVector>> groups;
  for (size_t begin = 0; begin < rows; begin += group_rows) {
    groups.push_back(MakeMessages(begin, std::min(rows, begin + group_rows), rng));
  }

  auto start = std::chrono::steady_clock::now();
  const std::clock_t start_cpu = std::clock();
  auto writer = Writer::Create(ChatSchema());
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().ToString().c_str());
    return 1;
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    size_t n = std::min(rows, (g + 1) * group_rows) - g * group_rows;
    Status st = (*writer)->WriteRowGroup(groups[g], n);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
  }
  auto file = (*writer)->Finish({{"kalamdb.table", "chat.messages"}});
  if (!file.ok()) {
    std::fprintf(stderr, "%s\n", file.status().ToString().c_str());
    return 1;
  }
  std::ofstream(path, std::ios::binary)
      .write(file->data(), static_cast<std::streamsize>(file->size()));
  const double write_s = Seconds(start);
  const double write_cpu_s = CpuSeconds(start_cpu);

  // mode 0: ReadColumn; 1: ReadColumnInto with reused vectors; 2: as 1 but byte-array columns
  // through ReadByteArrays.
  struct Timing {
    double wall;
    double cpu;
  };
  auto scan = [&](int mode) -> Timing {
    auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    auto reader = Reader::Open(*file);
    if (!reader.ok()) {
      std::fprintf(stderr, "%s\n", reader.status().ToString().c_str());
      std::exit(1);
    }
    const FileMetadata& md = (*reader)->metadata();
    std::vector<ColumnVector> reused(md.schema.size());
    std::vector<ByteArrayVector> packed(md.schema.size());
    size_t checksum = 0;
    for (size_t g = 0; g < md.row_groups.size(); ++g) {
      for (size_t c = 0; c < md.schema.size(); ++c) {
        if (mode == 2 && md.schema[c].physical == PhysicalType::kByteArray) {
          Status st =
              (*reader)->ReadByteArrays(static_cast<int>(g), static_cast<int>(c), &packed[c]);
          if (!st.ok()) {
            std::fprintf(stderr, "%s\n", st.ToString().c_str());
            std::exit(1);
          }
          checksum += packed[c].size();
        } else if (mode >= 1) {
          Status st =
              (*reader)->ReadColumnInto(static_cast<int>(g), static_cast<int>(c), &reused[c]);
          if (!st.ok()) {
            std::fprintf(stderr, "%s\n", st.ToString().c_str());
            std::exit(1);
          }
          checksum += reused[c].bytes.size() + reused[c].i64.size();
        } else {
          auto col = (*reader)->ReadColumn(static_cast<int>(g), static_cast<int>(c));
          if (!col.ok()) {
            std::fprintf(stderr, "%s\n", col.status().ToString().c_str());
            std::exit(1);
          }
          checksum += col->bytes.size() + col->i64.size();
        }
      }
    }
    Timing t{Seconds(t0), CpuSeconds(c0)};
    if (checksum == 0) std::fprintf(stderr, "empty scan\n");
    return t;
  };
  const Timing read = scan(0);
  const Timing read_reuse = scan(1);
  const Timing read_packed = scan(2);

  std::printf("rows %zu, row groups %zu, file %.1f MB (%s)\n", rows, groups.size(),
              static_cast<double>(file->size()) / 1e6, path.c_str());
  const double n = static_cast<double>(rows);
  std::printf("write %.3f s wall, %.3f s cpu (%.0f rows/s)\n", write_s, write_cpu_s, n / write_s);
  auto report = [&](const char* what, const Timing& t) {
    std::printf("read  %.3f s wall, %.3f s cpu (%.0f rows/s wall, %.0f rows/s cpu) %s\n", t.wall,
                t.cpu, n / t.wall, n / t.cpu, what);
  };
  report("ReadColumn", read);
  report("ReadColumnInto, reused vectors", read_reuse);
  report("ReadColumnInto + ReadByteArrays for strings", read_packed);
  return 0;
}
