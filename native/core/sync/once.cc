// once.cc — see once.h.
#include "core/sync/once.h"

namespace weft {

Once::Once() : SyncPrim(Kind::Once) {}

Once::~Once() { delete result_; }

// state_, runner_, result_, outcome_ and the queue are guarded by mu_. A waiter woken with
// kDone reads result_/outcome_ without mu_: finish() wrote them under mu_ before claiming it,
// and complete()'s release (paired with park()'s acquire of `word`, or the inbox lock for an
// async waiter) orders those writes before its reads. A caller of state() that sees kDone
// took mu_, which orders them as well.

Once::State Once::state() {
  std::lock_guard<std::mutex> g(mu_);
  return state_;
}

int32_t Once::enter(uint64_t thread, SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  if (state_ == kIdle) {
    state_ = kRunning;
    runner_ = thread;
    return kIdle;
  }
  if (state_ == kDone) return kDone;
  if (r != nullptr) {
    q_.enqueue(r);
  }
  return kRunning;
}

bool Once::running_on(uint64_t thread) {
  std::lock_guard<std::mutex> g(mu_);
  return state_ == kRunning && runner_ == thread;
}

void Once::finish(Message* result, Outcome outcome) {
  std::lock_guard<std::mutex> g(mu_);
  if (state_ != kRunning) {
    delete result;
    return;
  }
  result_ = result;
  outcome_ = outcome;
  state_ = kDone;
  q_.wake_all(Grant::kDone);  // after the writes above: see the comment on state()
}

void Once::runner_exited(uint64_t thread) {
  std::lock_guard<std::mutex> g(mu_);
  if (state_ != kRunning || runner_ != thread) return;
  state_ = kIdle;
  runner_ = 0;
  // kRetry: each waiter enters again (and one of them becomes the runner) under mu_.
  q_.wake_all(Grant::kRetry);
}

void Once::unlink(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  q_.remove(r);
}

void Once::abandon(SyncRec*) {}

}  // namespace weft
