// semaphore.cc — see semaphore.h.
#include "core/sync/semaphore.h"

namespace weft {

Semaphore::Semaphore(int64_t size) : SyncPrim(Kind::Semaphore), size_(size), avail_(size) {}

bool Semaphore::try_acquire(int64_t n) {
  std::lock_guard<std::mutex> g(mu_);
  if (q_.size > 0 || avail_ < n) return false;  // FIFO: never pass a waiting acquire
  avail_ -= n;
  return true;
}

bool Semaphore::acquire_or_queue(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  if (q_.size == 0 && avail_ >= r->n) {
    avail_ -= r->n;
    return true;
  }
  if (r->since_ns == 0) r->since_ns = now_ns();
  q_.push_back(r);
  return false;
}

void Semaphore::grant_locked() {
  while (SyncRec* h = q_.head) {
    if (h->n > avail_) return;  // the head waits; nobody passes it
    q_.remove(h);
    if (h->w->try_claim_index(0)) {
      avail_ -= h->n;
      h->grant = Grant::kGranted;
      complete(h->w);
    }
  }
}

bool Semaphore::release(int64_t n) {
  std::lock_guard<std::mutex> g(mu_);
  if (avail_ + n > size_) return false;
  avail_ += n;
  grant_locked();
  return true;
}

void Semaphore::state(int64_t* avail, size_t* queued) {
  std::lock_guard<std::mutex> g(mu_);
  *avail = avail_;
  *queued = q_.size;
}

void Semaphore::unlink(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  if (!r->queued) return;
  q_.remove(r);
  grant_locked();  // the acquires behind a canceled head may fit now
}

void Semaphore::abandon(SyncRec* r) {
  if (r->grant == Grant::kGranted) release(r->n);
}

}  // namespace weft
