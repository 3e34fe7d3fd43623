// inbox.h — where completions of a thread's asynchronous waiters are delivered.
//
// Any thread may push (a peer that claimed the waiter); only the owning thread drains. The
// owner supplies the wake-up (uv_async_send on its event loop in the addon; a condition
// variable in the native stress tests). Pushes coalesce: one wake-up may cover many items.
#pragma once

#include <mutex>
#include <vector>

namespace weft {

struct Waiter;

class Inbox {
 public:
  using WakeFn = void (*)(void* arg);
  Inbox(WakeFn wake, void* arg) : wake_(wake), arg_(arg) {}

  void push(Waiter* w) {
    std::lock_guard<std::mutex> g(mu_);
    items_.push_back(w);
    // wake_ is cleared under mu_ by close(), so no wake-up reaches a closed owner.
    if (wake_ != nullptr) wake_(arg_);
  }

  std::vector<Waiter*> drain() {
    std::vector<Waiter*> out;
    std::lock_guard<std::mutex> g(mu_);
    out.swap(items_);
    return out;
  }

  // Owner teardown: stop waking it. Items pushed later are still collected by drain().
  void close() {
    std::lock_guard<std::mutex> g(mu_);
    wake_ = nullptr;
  }

 private:
  std::mutex mu_;
  std::vector<Waiter*> items_;  // guarded by mu_
  WakeFn wake_;                 // guarded by mu_
  void* arg_;
};

}  // namespace weft
