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
Status RunStoreCheck(ObjectStore& store);

}  // namespace kalam::filestore
