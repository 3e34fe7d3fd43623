// sync_wait.h — blocking on a sync primitive (Mutex, RWMutex, WaitGroup, Semaphore, Cond,
// Once) from a test thread, with the protocol of waitq.h: take the resource or queue a record,
// park, and on a timeout cancel the Waiter (or, if a claim won that race, keep or give back
// what it granted). Shared by test_mutex.cc, test_sync.cc.
#pragma once

#include <memory>

#include "core/park/waitq.h"
#include "core/sync/mutex.h"
#include "harness.h"

namespace wt {

using weft::Grant;
using weft::SyncPrim;
using weft::SyncRec;

// A per-thread id for the primitives' `thread` fields (never 0).
inline uint64_t test_thread_id() {
  static std::atomic<uint64_t> next{1};
  thread_local uint64_t id = next.fetch_add(1, std::memory_order_relaxed);
  return id;
}

enum class WaitRes { kOk, kTimeout, kRetry };

// take(rec, first): takes the resource (true) or queues rec (false). A kRetry wake-up calls it
// again with first = false, unless `retry_returns` (Once: the caller starts over). deadline: an
// absolute now_ns() value, 0 = none. The Waiter is heap-allocated so that ASan reports a
// primitive touching it after the wait returned.
template <class Take>
WaitRes wait_prim(SyncPrim* prim, SyncRec& rec, uint64_t deadline, Take take,
                  bool retry_returns = false) {
  bool first = true;
  for (;;) {
    auto w = std::make_unique<weft::Waiter>();
    rec.w = w.get();
    rec.grant = Grant::kNone;
    rec.thread = test_thread_id();
    if (take(&rec, first)) {
      progress();
      return WaitRes::kOk;
    }
    first = false;
    if (!weft::park(w.get(), deadline, nullptr, nullptr)) {
      if (w->try_cancel()) {
        prim->unlink(&rec);
        CHECK(!rec.queued);
        progress();
        return WaitRes::kTimeout;
      }
      // A claim won the race: its completion is on its way. A retry wake-up is passed on
      // (abandon); a grant is kept (the wait succeeded at the last moment).
      weft::await_completion(w.get());
      if (rec.grant == Grant::kRetry) {
        prim->abandon(&rec);
        progress();
        return WaitRes::kTimeout;
      }
    }
    progress();
    CHECK(!rec.queued);  // the claimer unlinked it before completing (published by complete())
    CHECK(rec.grant != Grant::kNone);
    if (rec.grant != Grant::kRetry) return WaitRes::kOk;
    if (retry_returns) return WaitRes::kRetry;
  }
}

// Locks a Mutex as the binding does: a short optimistic spin, then the queue (a woken waiter
// re-queues at the front).
inline WaitRes mutex_lock(weft::Mutex* m, uint64_t deadline = 0) {
  int32_t me = int32_t(test_thread_id());
  for (int i = 0; i < 64; i++) {
    if (m->try_lock(me)) {
      progress();
      return WaitRes::kOk;
    }
    weft::cpu_relax();
  }
  SyncRec rec;
  return wait_prim(m, rec, deadline,
                   [m](SyncRec* r, bool first) { return m->lock_or_queue(r, !first); });
}

inline uint64_t deadline_in_us(uint64_t us) { return weft::now_ns() + us * 1000; }

}  // namespace wt
