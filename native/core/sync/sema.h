// sema.h — Go's sync.WaitGroup, sync.Cond, sync.Once (OnceValue) and x/sync/semaphore across
// threads, each with a FIFO wait queue (waitq.h).
#pragma once

#include <atomic>
#include <mutex>

#include "core/message.h"
#include "core/sync/mutex.h"
#include "core/park/waitq.h"

namespace weft {

// The counter is the Counter word (int32; layout abi::WaitGroupWord), mapped into JavaScript
// like a Mutex's words, so add/done are a CAS loop in JavaScript; the Waiters word counts
// queued waiters. A waiter publishes itself (Waiters, seq_cst) then re-reads the counter;
// add() changes the counter (seq_cst) then reads Waiters: whoever comes second sees the
// other, so reaching zero never misses a waiter.
class WaitGroup final : public SyncPrim {
 public:
  WaitGroup();
  std::atomic<int32_t>* words() { return words_; }
  // Wakes every waiter if the counter is zero (called after add() reached zero).
  void wake_if_zero();
  bool wait_or_queue(SyncRec* r);  // true: counter is zero
  void unlink(SyncRec* r) override;
  void abandon(SyncRec*) override {}

 private:
  // Mapped into JavaScript (wgWords()): the layout is abi::WaitGroupWord (native/core/abi.h).
  static constexpr uint32_t kCounter = abi::ix(abi::WaitGroupWord::Counter);
  static constexpr uint32_t kWaiters = abi::ix(abi::WaitGroupWord::Waiters);
  alignas(64) std::atomic<int32_t> words_[abi::kWaitGroupWordsBytes / sizeof(std::atomic<int32_t>)];
  static_assert(sizeof(words_) == abi::kWaitGroupWordsBytes);
  std::mutex mu_;
  SyncQueue q_;  // guarded by mu_
};

// Weighted FIFO semaphore: a waiter at the head blocks everyone behind it (a large acquire is
// never starved by small ones); when the head gives up, those behind it are re-examined.
class Semaphore final : public SyncPrim {
 public:
  explicit Semaphore(int64_t size);
  int64_t size() const { return size_; }
  bool try_acquire(int64_t n);
  bool acquire_or_queue(SyncRec* r);  // r->n permits
  bool release(int64_t n);            // false: more than acquired (misuse; nothing changed)
  // Permits available now and acquires queued (diagnostics).
  void state(int64_t* avail, size_t* queued);
  void unlink(SyncRec* r) override;
  void abandon(SyncRec* r) override;

 private:
  void grant_locked();
  const int64_t size_;
  std::mutex mu_;
  int64_t avail_;  // guarded by mu_
  SyncQueue q_;    // guarded by mu_
};

// Waiters queue in FIFO order; signal wakes the oldest, broadcast all. The caller holds the
// associated Mutex when it queues and releases it after queueing, so a signal sent after the
// caller released the mutex cannot be missed.
class Cond final : public SyncPrim {
 public:
  explicit Cond(Mutex* mu);  // retains mu
  ~Cond() override;
  Mutex* mutex() const { return mu_obj_; }
  void queue(SyncRec* r);
  void signal();
  void broadcast();
  size_t waiters();  // queued now (diagnostics)
  void unlink(SyncRec* r) override;
  void abandon(SyncRec* r) override;

 private:
  Mutex* const mu_obj_;
  std::mutex mu_;
  SyncQueue q_;  // guarded by mu_
};

// Runs a function once across threads and keeps its outcome (a structured message, and
// whether it was an error) for every caller. If the thread running it exits first, the
// waiters are told to retry and the next caller runs it.
class Once final : public SyncPrim {
 public:
  enum State : int32_t {  // abi::OnceState
    kIdle = abi::ix(abi::OnceState::Idle),
    kRunning = abi::ix(abi::OnceState::Running),
    kDone = abi::ix(abi::OnceState::Done),
  };
  // What the kept outcome is: fn's value, the error it threw, or the message of the
  // DataCloneError its value or error raised (so later callers can rethrow one).
  enum Outcome : int32_t {  // abi::OnceOutcome
    kValue = abi::ix(abi::OnceOutcome::Value),
    kError = abi::ix(abi::OnceOutcome::Error),
    kCloneError = abi::ix(abi::OnceOutcome::CloneError),
  };
  Once();
  ~Once() override;
  // kIdle: the caller must run fn now (state became kRunning for `thread`); kDone: read the
  // result; kRunning: someone else runs it — queue r (returns kRunning) and wait.
  int32_t enter(uint64_t thread, SyncRec* r);
  void finish(Message* result, Outcome outcome);  // adopts result
  void runner_exited(uint64_t thread);          // back to idle, waiters retry
  State state();
  // Whether `thread` is the one running fn now (a blocking wait by it would never end).
  bool running_on(uint64_t thread);
  const Message* result() const { return result_; }
  Outcome outcome() const { return outcome_; }
  void unlink(SyncRec* r) override;
  void abandon(SyncRec* r) override;

 private:
  std::mutex mu_;
  State state_ = kIdle;      // guarded by mu_
  uint64_t runner_ = 0;      // guarded by mu_
  Message* result_ = nullptr;  // written once under mu_ before state_ = kDone
  Outcome outcome_ = kValue;  // written once under mu_ before state_ = kDone
  SyncQueue q_;  // guarded by mu_
};

}  // namespace weft
