// block.h — a *Sync wait on a sync primitive (lockSync, acquireSync, waitSync, doSync...):
// the calling thread parks on a Waiter queued on the primitive, and optionally on a
// context's done channel, until it is granted, times out, is canceled, is found to be part
// of a lock cycle, or its thread is being torn down. Node-free: the glue (native/node/) only
// supplies the thread's identity and its teardown probe, and converts arguments.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "core/abi.h"
#include "core/chan/channel.h"
#include "core/park/parker.h"
#include "core/park/waitq.h"
#include "core/shared.h"

namespace weft {

// The calling thread, as block_on sees it.
struct BlockThread {
  uint64_t id = 0;               // process-unique thread id (SyncRec::thread, dump(), cycles)
  uint64_t* spin_ns = nullptr;   // its adaptive spin budget (park())
  StopProbe stop = nullptr;      // true once the thread is being torn down (polled per slice)
  void* stop_arg = nullptr;
  std::string* last_error = nullptr;  // receives a lock cycle's description (kDeadlock)
  // Optional (a wait with no deadline): whether no other thread could ever end a wait on
  // `prim` (and `done`, if any); if so it writes why into *why. Polled per slice, like stop.
  bool (*asleep)(void* arg, Shared* prim, Channel* done, const char* what, std::string* why) = nullptr;
  void* asleep_arg = nullptr;
};

// Takes the resource for rec (true) or queues rec on the primitive (false: the caller parks).
// `first` is false after a Grant::kRetry wake-up (a mutex re-queues at the front then).
using TakeFn = bool (*)(void* arg, SyncRec* rec, bool first);

// Waits on prim: take(rec, first) takes the resource or queues rec; a kRetry wake-up calls
// take() again. `deadline` is absolute CLOCK_MONOTONIC ns (0: none). `deadlock_on` (a Mutex
// or RWMutex, or null) is checked for a lock cycle before parking and every slice. `done`
// (optional) is a context's done channel: the same Waiter is also queued there as case 1, so
// a cancel from any thread (or a deadline) claims it and the wait ends with Canceled, having
// taken nothing. Returns an abi::Code value: Ok (granted / done), Timeout, Canceled, Deadlock
// (*t.last_error set) or Stopped. On any code but Ok nothing is held: a grant that raced the
// give-up was passed on (prim->abandon).
int32_t block_on(const BlockThread& t, SyncPrim* prim, const char* what, SyncRec& rec,
                 uint64_t deadline, Shared* deadlock_on, Channel* done, TakeFn take, void* arg);

// The same with any callable `bool(SyncRec*, bool first)`.
template <class Take>
int32_t block_on(const BlockThread& t, SyncPrim* prim, const char* what, SyncRec& rec,
                 uint64_t deadline, Shared* deadlock_on, Channel* done, Take&& take) {
  auto thunk = [](void* a, SyncRec* r, bool first) -> bool {
    return (*static_cast<std::remove_reference_t<Take>*>(a))(r, first);
  };
  return block_on(t, prim, what, rec, deadline, deadlock_on, done, +thunk,
                  static_cast<void*>(&take));
}

}  // namespace weft
