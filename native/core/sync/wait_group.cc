// wait_group.cc — see wait_group.h.
#include "core/sync/wait_group.h"

namespace weft {

WaitGroup::WaitGroup() : SyncPrim(Kind::WaitGroup) {
  for (auto& w : words_) w.store(0, std::memory_order_relaxed);
}

void WaitGroup::wake_if_zero() {
  std::lock_guard<std::mutex> g(mu_);
  if (words_[kCounter].load(std::memory_order_seq_cst) != 0) return;
  while (SyncRec* r = q_.claim_front(Grant::kDone)) complete(r->w);
  words_[kWaiters].store(int32_t(q_.size), std::memory_order_seq_cst);
}

bool WaitGroup::wait_or_queue(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  if (r->since_ns == 0) r->since_ns = now_ns();
  q_.push_back(r);
  words_[kWaiters].store(int32_t(q_.size), std::memory_order_seq_cst);
  if (words_[kCounter].load(std::memory_order_seq_cst) == 0) {
    q_.remove(r);
    words_[kWaiters].store(int32_t(q_.size), std::memory_order_seq_cst);
    return true;
  }
  return false;
}

void WaitGroup::unlink(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  q_.remove(r);
  words_[kWaiters].store(int32_t(q_.size), std::memory_order_seq_cst);
}

}  // namespace weft
