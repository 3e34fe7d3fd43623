// wait_group.cc — see wait_group.h.
#include "core/sync/wait_group.h"

namespace weft {

WaitGroup::WaitGroup() : SyncPrim(Kind::WaitGroup) {
  for (auto& w : words_) w.store(0, std::memory_order_relaxed);
}

// seq_cst: the Dekker pair of wait_or_queue (store Waiters, then load Counter) against
// JavaScript's add()/done() (lib/sync/waitgroup.ts: CAS Counter, then load Waiters, then
// wgWake), see wait_group.h. Only written under mu_, so these stores never race each other.
void WaitGroup::publish_waiters_locked() {
  words_[kWaiters].store(int32_t(q_.size), std::memory_order_seq_cst);
}

void WaitGroup::wake_if_zero() {
  std::lock_guard<std::mutex> g(mu_);
  // seq_cst: pairs with wait_or_queue's publish-then-load; a waiter queued after this load
  // saw the counter at zero itself and did not stay queued.
  if (words_[kCounter].load(std::memory_order_seq_cst) != 0) return;
  q_.wake_all(Grant::kDone);
  publish_waiters_locked();
}

bool WaitGroup::wait_or_queue(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  q_.enqueue(r);
  publish_waiters_locked();
  // seq_cst load after the seq_cst publish: an add() reaching zero either comes after the
  // publish (it sees Waiters != 0 and calls wake_if_zero, which takes mu_ after us) or
  // before this load (we see zero and leave the queue).
  if (words_[kCounter].load(std::memory_order_seq_cst) == 0) {
    q_.remove(r);
    publish_waiters_locked();
    return true;
  }
  return false;
}

void WaitGroup::unlink(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  q_.remove(r);
  publish_waiters_locked();
}

}  // namespace weft
