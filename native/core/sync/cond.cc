// cond.cc — see cond.h.
#include "core/sync/cond.h"

namespace weft {

Cond::Cond(Mutex* mu) : SyncPrim(Kind::Cond), mu_obj_(mu) { mu_obj_->retain(); }

Cond::~Cond() { mu_obj_->release(); }

// Every cross-thread hand-off here goes through mu_ (the queue and each record's links and
// `queued`) and the Waiter protocol of waitq.h: a claim (acq_rel CAS, SyncQueue::claim) against
// the waiter's cancel, then complete() (release of `word`, or the inbox lock) publishing
// `grant` to the woken owner's acquire in park()/await_completion().

void Cond::queue(SyncRec* r) {
  // Called before the caller unlocks the Mutex: a signal() after that unlock takes mu_ after
  // this and finds r queued (no lost wake-up; see cond.h).
  std::lock_guard<std::mutex> g(mu_);
  q_.enqueue(r);
}

void Cond::signal() {
  std::lock_guard<std::mutex> g(mu_);
  if (SyncRec* r = q_.claim_front(Grant::kDone)) complete(r->w);
}

void Cond::broadcast() {
  std::lock_guard<std::mutex> g(mu_);
  q_.wake_all(Grant::kDone);
}

size_t Cond::waiters() {
  std::lock_guard<std::mutex> g(mu_);
  return q_.size;
}

void Cond::unlink(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  q_.remove(r);
}

// Called without mu_ by an owner that lost the cancel race: it read `grant` after
// await_completion()'s acquire (pairs with complete()'s release).
void Cond::abandon(SyncRec* r) {
  if (r->grant == Grant::kDone) signal();  // pass the signal on to the next waiter
}

}  // namespace weft
