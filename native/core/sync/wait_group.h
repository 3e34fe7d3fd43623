// wait_group.h — Go's sync.WaitGroup across threads: a counter mapped into JavaScript and a
// FIFO wait queue (waitq.h) of the callers of wait().
#pragma once

#include <atomic>
#include <mutex>

#include "core/abi.h"
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
  void publish_waiters_locked();  // Waiters word := q_.size (under mu_)
  // Mapped into JavaScript (wgWords()): the layout is abi::WaitGroupWord (native/core/abi.h).
  static constexpr uint32_t kCounter = abi::ix(abi::WaitGroupWord::Counter);
  static constexpr uint32_t kWaiters = abi::ix(abi::WaitGroupWord::Waiters);
  alignas(64) std::atomic<int32_t> words_[abi::kWaitGroupWordsBytes / sizeof(std::atomic<int32_t>)];
  static_assert(sizeof(words_) == abi::kWaitGroupWordsBytes);
  std::mutex mu_;
  SyncQueue q_;  // guarded by mu_
};

}  // namespace weft
