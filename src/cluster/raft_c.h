// libraft's C headers with C linkage: raft.h 0.15 has no `extern "C"` guard of its own, so every
// C++ file includes libraft through this header (tests add raft/fixture.h the same way).
// raft/uv.h brings libuv's uv.h, which the node runtime's loop needs anyway.
#pragma once

extern "C" {
#include <raft.h>
#include <raft/uv.h>
}
