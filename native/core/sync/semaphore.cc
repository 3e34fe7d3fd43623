// semaphore.cc — see semaphore.h.
#include "core/sync/semaphore.h"

namespace weft {

Semaphore::Semaphore(int64_t size) : SyncPrim(Kind::Semaphore), size_(size), avail_(size) {}

// avail_ and the queue are guarded by mu_. A queued acquire is granted by grant_locked():
// SyncQueue::claim (acq_rel CAS against the waiter's cancel) sets grant, the permits are taken
// under mu_, and complete() (release; park()/await_completion() acquire, or the inbox lock)
// publishes both to the woken owner.

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
  q_.enqueue(r);
  return false;
}

void Semaphore::grant_locked() {
  while (SyncRec* h = q_.head) {
    if (h->n > avail_) return;  // the head waits; nobody passes it
    if (q_.claim(h, Grant::kGranted)) {
      avail_ -= h->n;
      complete(h->w);
    }
  }
}

bool Semaphore::release_permits(int64_t n) {
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

// Called without mu_ by an owner that lost the cancel race after await_completion()'s acquire,
// so it reads the grant the claimer wrote; the permits go back under mu_.
void Semaphore::abandon(SyncRec* r) {
  if (r->grant == Grant::kGranted) release_permits(r->n);
}

}  // namespace weft
