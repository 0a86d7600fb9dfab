// The STORAGE CHECK probe shared by every ObjectStore backend.
#pragma once

#include "common/status.h"
#include "filestore/object_store.h"

namespace kalam::filestore {

// Writes a probe object under ".kalam-check/", reads it back and compares, lists
// ".kalam-check/" and expects the probe with its size, deletes it and expects a read to be
// kNotFound. OK, or the Status of the first step that failed, its message prefixed with
// "storage check failed at <step> (<location>): ". A probe left by a failed read or list step is
// deleted; when that deletion fails too, the message ends with "; the probe object could not be
// removed either: <cause>". Thread-safe if `store` is.
//
// `passed` (may be null) is told which steps succeeded, for STORAGE CHECK's columns.
struct StoreCheckSteps {
  bool writable = false;   // the probe was written
  bool readable = false;   // and read back equal
  bool listable = false;   // and listed with its size
  bool deletable = false;  // and deleted (a read then says kNotFound)
};
Status RunStoreCheck(ObjectStore& store, StoreCheckSteps* passed = nullptr);

}  // namespace kalam::filestore
