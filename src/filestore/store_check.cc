// The STORAGE CHECK probe: write, read back, list, delete.
#include "filestore/store_check.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <string>

namespace kalam::filestore {
namespace {

std::string ProbeToken() {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  uint64_t r = (uint64_t(rd()) << 32) ^ rd();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-";
  for (int i = 0; i < 16; ++i) out += kHex[(r >> (i * 4)) & 15];
  return out;
}

}  // namespace

Status RunStoreCheck(ObjectStore& store, StoreCheckSteps* passed) {
  StoreCheckSteps ignored;
  StoreCheckSteps& steps = passed ? *passed : ignored;
  steps = StoreCheckSteps();
  const std::string key = ".kalam-check/probe-" + ProbeToken();
  const std::string payload = "KalamDB storage check " + key;
  const auto fail = [&](std::string_view step, const Status& st) {
    return st.WithPrefix("storage check failed at " + std::string(step) + " (" +
                         store.Describe(key) + "): ");
  };
  // A step failed after the probe may have been written: remove it, and when that fails too,
  // say so in the same error, so that the operator knows an object was left behind.
  const auto fail_and_remove = [&](std::string_view step, const Status& st) {
    Status out = fail(step, st);
    if (Status removed = store.Delete(key); !removed.ok()) {
      out = Status(out.code(), out.message() + "; the probe object could not be removed either: " +
                                   removed.message());
    }
    return out;
  };

  // Put is atomic: when it fails there is no probe to remove.
  if (Status st = store.Put(key, payload); !st.ok()) return fail("write", st);
  steps.writable = true;
  Result<std::string> read = store.Get(key);
  if (!read.ok()) return fail_and_remove("read", read.status());
  if (*read != payload) {
    return fail_and_remove(
        "read", Status::IoError("the object read back (" + std::to_string(read->size()) +
                                " bytes) differs from what was written (" +
                                std::to_string(payload.size()) + " bytes)"));
  }
  steps.readable = true;
  Result<std::vector<ObjectInfo>> listed = store.List(".kalam-check/");
  if (!listed.ok()) return fail_and_remove("list", listed.status());
  bool found = false;
  for (const ObjectInfo& info : *listed) {
    found = found || (info.key == key && info.size_bytes == payload.size());
  }
  if (!found) {
    return fail_and_remove("list", Status::IoError("the probe object is missing from the listing "
                                                   "of '.kalam-check/' (or has the wrong size)"));
  }
  steps.listable = true;
  if (Status st = store.Delete(key); !st.ok()) return fail("delete", st);
  Result<std::string> after = store.Get(key);
  if (after.ok()) {
    return fail("delete", Status::IoError("the probe object is still readable after Delete"));
  }
  if (after.status().code() != StatusCode::kNotFound) return fail("delete", after.status());
  steps.deletable = true;
  return Status::OK();
}

}  // namespace kalam::filestore
