// sync_wait.h — blocking on a sync primitive (Mutex, RWMutex, WaitGroup, Semaphore, Cond,
// Once) from a test thread through the production wait, block_on (core/sync/block.h), with
// the same take functions the binding's *Sync calls pass (native/node/bind_sync.cc,
// bind_mutex.cc). Shared by test_mutex.cc, test_sync.cc, test_block.cc, test_async_sync.cc.
#pragma once

#include <utility>

#include "core/sync/block.h"
#include "core/sync/mutex.h"
#include "core/sync/semaphore.h"
#include "harness.h"

namespace wt {

using weft::BlockThread;
using weft::Grant;
using weft::SyncPrim;
using weft::SyncRec;

// A per-thread id for the primitives' `thread` fields and block_on's lock-cycle check: never 0,
// and above the small fixed ids the deterministic cases use (try_lock(1), RawRec(2)...), which
// would otherwise make a thread look like the holder of a lock it waits for (a Deadlock).
inline uint64_t test_thread_id() {
  static std::atomic<uint64_t> next{1u << 20};
  thread_local uint64_t id = next.fetch_add(1, std::memory_order_relaxed);
  return id;
}

// The calling test thread as block_on sees it: an id, no spin budget, no teardown probe.
inline BlockThread this_thread() {
  BlockThread t;
  t.id = test_thread_id();
  return t;
}

// block_on(t, prim, ...) with take(rec, first) (see TakeFn), then the checks every wait must
// pass: whatever the code, rec is in no queue (a claimer unlinks before completing; a waiter
// that gave up unlinked itself). Returns the abi::Code value block_on returned.
template <class Take>
int32_t wait_on(const BlockThread& t, SyncPrim* prim, SyncRec& rec, uint64_t deadline,
                Take&& take, Channel* done = nullptr, Shared* deadlock_on = nullptr) {
  int32_t code = weft::block_on(t, prim, "test", rec, deadline, deadlock_on, done,
                                std::forward<Take>(take));
  // Plain read: our own unlink (under the primitive's lock) or the claimer's complete()
  // (release; block_on's await/park acquire) ordered the last write of `queued` before it.
  CHECK(!rec.queued);
  progress();
  return code;
}

template <class Take>
int32_t wait_prim(SyncPrim* prim, SyncRec& rec, uint64_t deadline, Take&& take) {
  return wait_on(this_thread(), prim, rec, deadline, std::forward<Take>(take));
}

// Locks a Mutex as lockSync does: a short optimistic spin, then block_on with the lock-cycle
// check (a woken waiter re-queues at the front).
inline int32_t mutex_lock(const BlockThread& t, weft::Mutex* m, uint64_t deadline = 0,
                          Channel* done = nullptr) {
  for (int i = 0; i < 64; i++) {
    if (m->try_lock(int32_t(t.id))) {
      progress();
      return kOk;
    }
    weft::cpu_relax();
  }
  SyncRec rec;
  return wait_on(
      t, m, rec, deadline, [m](SyncRec* r, bool first) { return m->lock_or_queue(r, !first); },
      done, m);
}
inline int32_t mutex_lock(weft::Mutex* m, uint64_t deadline = 0) {
  return mutex_lock(this_thread(), m, deadline);
}

// Acquires n permits as acquireSync does.
inline int32_t sem_acquire(const BlockThread& t, weft::Semaphore* s, int64_t n,
                           uint64_t deadline = 0, Channel* done = nullptr) {
  SyncRec rec;
  rec.n = n;
  return wait_on(
      t, s, rec, deadline, [s](SyncRec* r, bool) { return s->acquire_or_queue(r); }, done);
}
inline int32_t sem_acquire(weft::Semaphore* s, int64_t n, uint64_t deadline = 0) {
  return sem_acquire(this_thread(), s, n, deadline);
}

// A record the test thread queues itself and never parks on (the deterministic cases inspect
// what a primitive did to it).
struct RawRec {
  std::unique_ptr<weft::Waiter> w = std::make_unique<weft::Waiter>();
  SyncRec rec;
  explicit RawRec(uint64_t thread = 1000, int64_t n = 1) {
    rec.w = w.get();
    rec.thread = thread;
    rec.n = n;
  }
  // acquire: pairs with complete()'s release store of `word` (the claimer's writes to rec,
  // grant included, are visible after it).
  bool completed() const { return w->word.load(std::memory_order_acquire) == 1; }
};

inline uint64_t deadline_in_us(uint64_t us) { return weft::now_ns() + us * 1000; }

}  // namespace wt
