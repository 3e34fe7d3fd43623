// once.cc — see once.h.
#include "core/sync/once.h"

namespace weft {

Once::Once() : SyncPrim(Kind::Once) {}

Once::~Once() { delete result_; }

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
    if (r->since_ns == 0) r->since_ns = now_ns();
    q_.push_back(r);
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
  while (SyncRec* r = q_.claim_front(Grant::kDone)) complete(r->w);
}

void Once::runner_exited(uint64_t thread) {
  std::lock_guard<std::mutex> g(mu_);
  if (state_ != kRunning || runner_ != thread) return;
  state_ = kIdle;
  runner_ = 0;
  while (SyncRec* r = q_.claim_front(Grant::kRetry)) complete(r->w);
}

void Once::unlink(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  q_.remove(r);
}

void Once::abandon(SyncRec*) {}

}  // namespace weft
