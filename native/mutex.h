// mutex.h — Go's sync.Mutex and sync.RWMutex across threads.
//
// Mutex: the lock word lives in native memory and is also mapped into every thread's
// JavaScript as an Int32Array (external ArrayBuffer), so the uncontended lock and unlock are
// one Atomics.compareExchange each in JavaScript, with no native call. words[0] packs the
// state like Go's: bit 0 = locked, the rest = 2 x the number of queued waiters; words[2] is
// the id of the thread that locked it last (deadlock detection only, a plain hint).
// JavaScript only ever CASes 0 -> 1 (lock) and 1 -> 0 (unlock with nobody queued); with
// waiters queued the unlock comes here. Waiters queue FIFO; unlock wakes the head to retry
// (normal mode), or, once the head has waited over 1 ms, hands the lock straight to it
// (Go's starvation mode), so no waiter starves.
//
// Ordering: queueing adds to words[0] and an unlock CASes words[0]: both are RMWs on the same
// word, so an unlock either sees the waiter (and takes the slow path) or happens before the
// waiter's own CAS attempt, which then succeeds. No wake-up can be lost.
//
// RWMutex: writer-preferring, all under its internal lock (a new reader queues while a writer
// waits); one native call per operation.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "waitq.h"

namespace weft {

class Mutex final : public SyncPrim {
 public:
  Mutex();
  std::atomic<int32_t>* words() { return words_; }
  bool locked() const { return (words_[0].load(std::memory_order_acquire) & 1) != 0; }
  int32_t owner() const { return words_[2].load(std::memory_order_relaxed); }
  bool try_lock(int32_t thread);
  // Slow path: takes the lock (true) or queues r (false; the caller parks). `front` re-queues
  // a woken waiter ahead of the others, as Go does.
  bool lock_or_queue(SyncRec* r, bool front);
  // false: not locked (misuse; nothing changed).
  bool unlock();
  // Passes a retry wake-up on to the next waiter.
  void wake_one();
  void unlink(SyncRec* r) override;
  void abandon(SyncRec* r) override;

 private:
  void set_queued(size_t before);  // mirror a change of q_.size into words_[0]
  alignas(64) std::atomic<int32_t> words_[4];
  std::mutex mu_;
  SyncQueue q_;  // guarded by mu_
};

class RWMutex final : public SyncPrim {
 public:
  RWMutex();
  bool try_lock();
  bool try_rlock();
  // Take (true) or queue r (false). r->n: 1 writer, 0 reader.
  bool lock_or_queue(SyncRec* r);
  bool unlock();   // false: misuse (not write-locked)
  bool runlock();  // false: misuse (not read-locked)
  void unlink(SyncRec* r) override;
  void abandon(SyncRec* r) override;

 private:
  void grant_locked();
  std::mutex mu_;
  SyncQueue q_;          // guarded by mu_
  int64_t readers_ = 0;  // guarded by mu_
  bool writer_ = false;  // guarded by mu_
  int64_t waiting_writers_ = 0;  // guarded by mu_
};

}  // namespace weft
