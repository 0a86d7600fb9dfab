// One-time libsodium initialization.
#include "auth/sodium_init.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace kalam::auth {

void EnsureSodium() {
  // A function-local static is initialized exactly once even under concurrent first calls.
  static const bool initialized = [] {
    if (sodium_init() < 0) {
      std::fputs("kalamdb: libsodium failed to initialize\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)initialized;
}

}  // namespace kalam::auth
