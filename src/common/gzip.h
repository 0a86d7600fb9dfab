// Gzip (RFC 1952) over zlib for the server: whole-buffer compression, bounded inflation, and gzip
// streams spliced from a per-message head and a tail deflated once for many messages. The
// server's one copy (WebSocket frames, Parquet GZIP pages); the client library keeps its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace kalam {

// zlib compression levels Gzip takes.
inline constexpr int kGzipFastest = 1;   // Z_BEST_SPEED
inline constexpr int kGzipDefault = -1;  // Z_DEFAULT_COMPRESSION

// Replaces *out with the gzip of `in` compressed at `level` (kGzipFastest … 9, or kGzipDefault).
// Returns false when zlib fails (*out is then unspecified). Thread-safe: each thread reuses one
// deflate state per level (building one costs ~256 KiB of allocation).
[[nodiscard]] bool Gzip(std::string_view in, int level, std::string* out);

enum class GunzipResult {
  kOk,
  kTooLarge,  // the output would exceed max_bytes
  kCorrupt,   // not a valid stream, truncated, or followed by bytes that are not one
};

struct GunzipOptions {
  // Largest output accepted. Required.
  size_t max_bytes = 0;
  // Output room allocated before inflating; it grows from there (by at least four times the
  // input, 4 KiB or more, each step). A caller that knows the size passes it (+1, to see that
  // nothing follows). 0 = four times the input, at least 4 KiB.
  size_t initial_bytes = 0;
  // Also accept a zlib (RFC 1950) stream instead of gzip. Default: gzip only.
  bool accept_zlib = false;
  // Accept several gzip members one after the other (inflated as one text). Default: exactly one.
  bool concatenated_members = false;
};

// Replaces *out with the inflation of `in`. On kCorrupt, *zlib_status (when given) is zlib's
// last return code. *out holds at most max_bytes + 1 bytes whatever the result.
GunzipResult Gunzip(std::string_view in, const GunzipOptions& options, std::string* out,
                    int* zlib_status = nullptr);

// `text` deflated once (raw deflate blocks at the fastest level, the last one final) to end many
// gzip streams, with its CRC-32 and zlib's crc32_combine_op operator for its length. `ok` is
// false when zlib failed.
struct DeflatedTail {
  bool ok = false;
  std::string raw;
  uint32_t crc = 0;
  unsigned long crc_combine_op = 0;  // NOLINT(runtime/int): zlib's uLong
  size_t text_bytes = 0;             // length of the text deflated
};
DeflatedTail DeflateTail(std::string_view text);

// The gzip of `head` followed by the text `tail` was made from: `head` as a stored deflate block,
// then the tail's own deflate (deflate blocks may follow each other from a byte boundary; the
// tail's back-references stay within the tail), so the tail is compressed once for every stream
// that ends with it. nullopt when `tail` is not ok or `head` is too long for one stored block
// (64 KiB).
std::optional<std::string> GzipWithTail(std::string_view head, const DeflatedTail& tail);

// The end that many outgoing messages share (a live change event after its subscription_id, the
// same for every subscriber with the same projection), with its DeflateTail computed once, on
// first use, for every connection that gzips a message ending with it. Immutable; thread-safe.
class SharedTail {
 public:
  explicit SharedTail(std::string text) : text_(std::move(text)) {}
  const std::string& text() const { return text_; }

  // DeflateTail(text()), computed on the first call; later calls return the same object.
  const DeflatedTail& deflated() const;

 private:
  const std::string text_;
  mutable std::once_flag once_;
  mutable DeflatedTail deflated_;  // set once, under once_
};

// One outgoing text message whose end may be shared with other messages: `head`, then `tail`'s
// text if any (the text is complete only together). live writes them (LiveEvent) and the
// WebSocket session sends them (net::WsMessage) as this one type.
struct TailedMessage {
  std::string head;
  std::shared_ptr<const SharedTail> tail;
  // The whole text, head and tail.
  std::string Text() const { return tail ? head + tail->text() : head; }
};

}  // namespace kalam
