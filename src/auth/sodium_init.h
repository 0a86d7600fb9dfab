// EnsureSodium: the one-time libsodium initialization every auth primitive relies on.
#pragma once

namespace kalam::auth {

// Initializes libsodium once per process (sodium_init). Cheap after the first call; thread-safe.
// Aborts the process if libsodium cannot initialize (no usable randomness source): nothing in
// auth is safe to run without it.
void EnsureSodium();

}  // namespace kalam::auth
