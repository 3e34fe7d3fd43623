// inbox.h — where completions of a thread's asynchronous waiters are delivered.
//
// Any thread may push (a peer that claimed the waiter); only the owning thread drains. The
// owner supplies the wake-up (uv_async_send on its event loop in the addon; a condition
// variable in the native stress tests). Pushes coalesce: one wake-up may cover many items.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

namespace weft {

struct Waiter;

class Inbox {
 public:
  using WakeFn = void (*)(void* arg);
  Inbox(WakeFn wake, void* arg) : wake_(wake), arg_(arg) {}

  // Never allocates (an intrusive list through Waiter::inbox_next): it runs inside a peer's
  // operation, possibly on the timer thread, where an allocation failure could not be
  // reported to anyone and would lose the completion.
  void push(Waiter* w);

  // The delivered waiters, in push order. Allocates the vector on the owner thread; if that
  // throws, the items stay queued for the next drain().
  std::vector<Waiter*> drain();

  // Takes w out of the queue if it is there (owner thread): true if it was. The claimer's push
  // under mu_ orders everything it wrote to w before our reads after this returns true.
  bool take(Waiter* w);

  // Whether nothing is queued (owner thread: a completion pushed by its own JavaScript, not
  // yet drained, means the thread will run JavaScript again).
  bool empty() {
    std::lock_guard<std::mutex> g(mu_);
    return head_ == nullptr;
  }

  // Owner teardown: stop waking it. Items pushed later are still collected by drain().
  // Returns once no push is still calling the wake-up (the owner may free what it reaches).
  void close();

 private:
  std::mutex mu_;
  Waiter* head_ = nullptr;  // guarded by mu_
  Waiter* tail_ = nullptr;  // guarded by mu_
  size_t count_ = 0;        // guarded by mu_
  WakeFn wake_;             // guarded by mu_
  void* arg_;
  // Pushes between their unlock and the end of their wake_ call (see push and close).
  std::atomic<uint32_t> waking_{0};
};

}  // namespace weft

// Waiter must be complete for the list operations.
#include "core/park/parker.h"

namespace weft {

inline void Inbox::push(Waiter* w) {
  WakeFn wake;
  {
    std::lock_guard<std::mutex> g(mu_);
    w->inbox_next = nullptr;
    if (tail_ != nullptr) tail_->inbox_next = w;
    else head_ = w;
    tail_ = w;
    count_++;
    wake = wake_;
    // Counted under mu_, where wake_ was still set: close() clears wake_ under mu_ after this
    // critical section, so its wait below sees the count (the mutex orders them).
    if (wake != nullptr) waking_.fetch_add(1, std::memory_order_relaxed);
  }
  // The wake-up goes out after the unlock: uv_async_send is a write() syscall, and an owner
  // woken by it drains at once; made under mu_, the owner found the lock still held, slept on
  // it and was woken a second time by the unlock (measured: two futex calls and a second
  // context switch per completion on the main thread of a go() round trip).
  if (wake != nullptr) {
    wake(arg_);
    // release: everything the wake-up touched (the owner's uv handle) happens before close()
    // returns (pairs with its acquire load).
    waking_.fetch_sub(1, std::memory_order_release);
  }
}

inline void Inbox::close() {
  {
    std::lock_guard<std::mutex> g(mu_);
    wake_ = nullptr;
  }
  // acquire: pairs with push's release decrement. A push that read wake_ before the clear is
  // counted (see push); it is inside one wake-up call, which does not block, but its thread
  // may have been preempted there: yield after a while rather than spin on its core.
  for (int i = 0; waking_.load(std::memory_order_acquire) != 0; i++) {
    if (i < 64) cpu_relax();
    else thread_yield();
  }
}

inline bool Inbox::take(Waiter* w) {
  std::lock_guard<std::mutex> g(mu_);
  Waiter* prev = nullptr;
  for (Waiter* x = head_; x != nullptr; prev = x, x = x->inbox_next) {
    if (x != w) continue;
    (prev != nullptr ? prev->inbox_next : head_) = x->inbox_next;
    if (tail_ == x) tail_ = prev;
    count_--;
    return true;
  }
  return false;
}

inline std::vector<Waiter*> Inbox::drain() {
  std::vector<Waiter*> out;
  std::lock_guard<std::mutex> g(mu_);
  if (count_ == 0) return out;
  out.reserve(count_);  // may throw: nothing taken yet
  for (Waiter* w = head_; w != nullptr; w = w->inbox_next) out.push_back(w);
  head_ = tail_ = nullptr;
  count_ = 0;
  return out;
}

}  // namespace weft
