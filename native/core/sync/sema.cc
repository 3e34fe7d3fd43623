// sema.cc — see sema.h.
#include "core/sync/sema.h"

namespace weft {

// ---- WaitGroup ---------------------------------------------------------------------------

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

// ---- Semaphore ---------------------------------------------------------------------------

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

// ---- Cond --------------------------------------------------------------------------------

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

// ---- Once --------------------------------------------------------------------------------

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
