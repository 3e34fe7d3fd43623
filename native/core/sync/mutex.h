// mutex.h — Go's sync.Mutex and sync.RWMutex across threads.
//
// Mutex: the lock word lives in native memory and is also mapped into every thread's
// JavaScript as an Int32Array (external ArrayBuffer), so the uncontended lock and unlock are
// one Atomics.compareExchange each in JavaScript, with no native call. Layout: abi::MutexWord
// (native/core/abi.h). The State word packs the state like Go's: bit 0 = locked, the rest = 2 x
// the number of queued waiters; the Owner word is the id of the thread that locked it last
// (deadlock detection only, a plain hint).
// JavaScript only ever CASes 0 -> 1 (lock) and 1 -> 0 (unlock with nobody queued); with
// waiters queued the unlock comes here. Waiters queue FIFO; unlock wakes the head to retry
// (normal mode), or, once the head has waited over 1 ms, hands the lock straight to it
// (Go's starvation mode), so no waiter starves.
//
// Ordering: queueing adds to the State word and an unlock CASes it: both are RMWs on the same
// word, so an unlock either sees the waiter (and takes the slow path) or happens before the
// waiter's own CAS attempt, which then succeeds. No wake-up can be lost.
//
// The holder shown by dump() is the Owner word (Mutex) or the thread that took the write lock
// (RWMutex): the thread that locked it, or the waiter it was handed to. Neither is owned by a
// thread (any thread may unlock), so an unlock by another thread simply clears it.
//
// RWMutex: writer-preferring, all under its internal lock (a new reader queues while a writer
// waits); one native call per operation. It also remembers which threads hold read locks, as
// long as that is unambiguous (see runlock()), so a thread blocking on a lock it holds itself
// is reported as a deadlock instead of hanging.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/abi.h"
#include "core/park/waitq.h"

namespace weft {

class Mutex final : public SyncPrim {
 public:
  Mutex();
  std::atomic<int32_t>* words() { return words_; }
  bool locked() const {
    // acquire: pairs with the seq_cst locking CAS / unlocking fetch_and (a snapshot).
    return (words_[kState].load(std::memory_order_acquire) & abi::kMutexLocked) != 0;
  }
  int32_t owner() const { return words_[kOwner].load(std::memory_order_relaxed); }
  // owner() while locked. JavaScript writes the Owner word right after its locking CAS and
  // clears it right before its unlocking CAS (plain stores: a hint, never used for
  // correctness), so a locked mutex may briefly show 0 (unknown).
  uint64_t holder_thread() const override { return locked() ? uint64_t(uint32_t(owner())) : 0; }
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
  void set_queued(size_t before);  // mirror a change of q_.size into the State word
  // Mapped into JavaScript (mutexWords()): the layout is abi::MutexWord (native/core/abi.h).
  static constexpr uint32_t kState = abi::ix(abi::MutexWord::State);
  static constexpr uint32_t kOwner = abi::ix(abi::MutexWord::Owner);
  alignas(64) std::atomic<int32_t> words_[abi::kMutexWordsBytes / sizeof(std::atomic<int32_t>)];
  static_assert(sizeof(words_) == abi::kMutexWordsBytes);
  std::mutex mu_;
  SyncQueue q_;  // guarded by mu_
};

class RWMutex final : public SyncPrim {
 public:
  RWMutex();
  bool try_lock(uint64_t thread);
  bool try_rlock(uint64_t thread);
  // Take (true) or queue r (false). r->n: 1 writer, 0 reader; r->thread: the caller.
  bool lock_or_queue(SyncRec* r);
  bool unlock();                   // false: misuse (not write-locked)
  bool runlock(uint64_t thread);   // false: misuse (not read-locked)
  void unlink(SyncRec* r) override;
  void abandon(SyncRec* r) override;
  // What `thread` holds itself (a blocking lock by it would wait for itself): kHoldsWrite,
  // kHoldsRead (only reported while the readers are known), or kHoldsNothing.
  enum Held : int32_t { kHoldsNothing = 0, kHoldsWrite = 1, kHoldsRead = 2 };
  Held held_by(uint64_t thread);
  uint64_t holder_thread() const override {
    // Relaxed: a diagnostic hint; the authoritative state is writer_ under mu_.
    return writer_thread_.load(std::memory_order_relaxed);
  }
  struct State {
    int64_t readers;
    bool writer;
    size_t queued;
  };
  State state();

 private:
  void grant_locked();
  void add_reader_locked(uint64_t thread);
  std::mutex mu_;
  SyncQueue q_;          // guarded by mu_
  int64_t readers_ = 0;  // guarded by mu_
  bool writer_ = false;  // guarded by mu_
  int64_t waiting_writers_ = 0;  // guarded by mu_
  // The write-lock holder: written under mu_, read relaxed by holder_thread().
  std::atomic<uint64_t> writer_thread_{0};
  // Read locks per thread (thread, count), while every read lock held can be attributed to a
  // thread; a runlock by a thread holding none, while several threads hold read locks, makes
  // that unknowable (readers_unknown_) until the read count drops back to zero.
  std::vector<std::pair<uint64_t, int64_t>> reader_threads_;  // guarded by mu_
  bool readers_unknown_ = false;                                // guarded by mu_
};

}  // namespace weft
