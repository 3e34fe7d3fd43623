// cond.cc — see cond.h.
#include "core/sync/cond.h"

namespace weft {

Cond::Cond(Mutex* mu) : SyncPrim(Kind::Cond), mu_obj_(mu) { mu_obj_->retain(); }

Cond::~Cond() { mu_obj_->release(); }

void Cond::queue(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  if (r->since_ns == 0) r->since_ns = now_ns();
  q_.push_back(r);
}

void Cond::signal() {
  std::lock_guard<std::mutex> g(mu_);
  if (SyncRec* r = q_.claim_front(Grant::kDone)) complete(r->w);
}

void Cond::broadcast() {
  std::lock_guard<std::mutex> g(mu_);
  while (SyncRec* r = q_.claim_front(Grant::kDone)) complete(r->w);
}

size_t Cond::waiters() {
  std::lock_guard<std::mutex> g(mu_);
  return q_.size;
}

void Cond::unlink(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  q_.remove(r);
}

void Cond::abandon(SyncRec* r) {
  if (r->grant == Grant::kDone) signal();  // pass the signal on to the next waiter
}

}  // namespace weft
