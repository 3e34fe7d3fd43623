// blocked.h — the process-wide list of blocked operations: what dump() shows, and what the
// lock-cycle check (find_lock_cycle) follows.
//
// Every blocking call (a *Sync call parking its thread, or an async op waiting for a promise)
// registers a Blocked entry for as long as it waits, in its own thread's list. The lists are a
// second piece of static mutable state next to the id registry (shared.cc); they have their
// own locks (one per thread, one over the set of lists), taken by nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace weft {

class Shared;

struct Blocked {
  uint64_t thread;
  const char* op;
  Shared* obj;      // not owned: the blocked call keeps it alive while registered
  uint64_t since_ns;
  bool sync = false;  // the thread itself is blocked (a *Sync call), not just a promise
  size_t pos = 0;     // index in its thread's list (O(1) removal), guarded by that list's lock
  void* home = nullptr;  // that list (blocked.cc), set by block_begin; null: not registered
};
// Never throw: callers register from inside park() and mid-way through queueing async ops (out
// of memory, the wait is just missing from dump()).
void block_begin(Blocked* b);
void block_end(Blocked* b);

// Copies of the current entries with the objects' descriptions ("mutex db", ...).
struct BlockedInfo {
  uint64_t thread;
  std::string op;
  std::string object;
  uint64_t since_ns;
  uint64_t holder = 0;  // obj->holder_thread() at the time of the copy
  bool sync = false;    // Blocked::sync: the thread itself is blocked (runtime hand-off)
};
std::vector<BlockedInfo> blocked_snapshot();

// The threads blocked in a *Sync call right now (a thread may appear more than once): what the
// pool's sysmon polls while tasks are queued. Copies ids only, so the list's lock is held for
// a pass over the pointers, not for the strings blocked_snapshot builds per entry.
std::vector<uint64_t> blocked_sync_threads();

// Lock-cycle check for a thread about to wait for `m` (a Mutex or RWMutex): follows
// holder -> the lock that holder waits for in a Sync call -> ... and returns a description
// of the cycle through `thread`, or "" if there is none. `owner_of` reads a lock's holder.
std::string find_lock_cycle(uint64_t thread, Shared* m, int32_t (*owner_of)(Shared*));

// block_begin(b) then find_lock_cycle(b->thread, m, owner_of), as one step with respect to
// every other thread doing the same (see blocked.cc): of two threads closing a cycle at the
// same moment, exactly one reports it.
std::string block_begin_check_cycle(Blocked* b, Shared* m, int32_t (*owner_of)(Shared*));

}  // namespace weft
