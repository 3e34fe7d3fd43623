// bind_sync.h — whether a weft thread is still alive (the live-thread set kept by bind_sync.cc,
// read by dump() for a lock holder that exited).
#pragma once

#include <cstdint>

namespace weft {

// True while thread `id` (ThreadCtx::thread_id) has not exited.
bool thread_alive(uint64_t id);

}  // namespace weft
