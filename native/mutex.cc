// mutex.cc — see mutex.h.
#include "mutex.h"

namespace weft {

namespace {
constexpr uint64_t kStarvationNs = 1'000'000;  // Go's starvationThresholdNs
}  // namespace

// ---- Mutex -------------------------------------------------------------------------------

Mutex::Mutex() : SyncPrim(Kind::Mutex) {
  for (auto& w : words_) w.store(0, std::memory_order_relaxed);
}

bool Mutex::try_lock(int32_t thread) {
  int32_t c = words_[0].load(std::memory_order_relaxed);
  while ((c & 1) == 0) {
    if (words_[0].compare_exchange_weak(c, c | 1, std::memory_order_seq_cst)) {
      words_[2].store(thread, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

void Mutex::set_queued(size_t before) {
  int32_t delta = 2 * (int32_t(q_.size) - int32_t(before));
  if (delta != 0) words_[0].fetch_add(delta, std::memory_order_seq_cst);
}

bool Mutex::lock_or_queue(SyncRec* r, bool front) {
  std::lock_guard<std::mutex> g(mu_);
  if (r->since_ns == 0) r->since_ns = now_ns();
  size_t before = q_.size;
  if (front) q_.push_front(r); else q_.push_back(r);
  set_queued(before);
  if (try_lock(int32_t(r->thread))) {
    before = q_.size;
    q_.remove(r);
    set_queued(before);
    return true;
  }
  return false;
}

bool Mutex::unlock() {
  std::lock_guard<std::mutex> g(mu_);
  if ((words_[0].load(std::memory_order_acquire) & 1) == 0) return false;
  size_t before = q_.size;
  SyncRec* head = q_.head;
  if (head != nullptr && now_ns() - head->since_ns > kStarvationNs) {
    // Starvation mode: the lock stays taken and passes straight to the longest waiter.
    if (SyncRec* r = q_.claim_front(Grant::kGranted)) {
      words_[2].store(int32_t(r->thread), std::memory_order_relaxed);
      set_queued(before);
      complete(r->w);
      return true;
    }
  }
  words_[2].store(0, std::memory_order_relaxed);
  words_[0].fetch_and(~1, std::memory_order_seq_cst);
  SyncRec* r = q_.claim_front(Grant::kRetry);
  set_queued(before);
  if (r != nullptr) complete(r->w);
  return true;
}

void Mutex::wake_one() {
  std::lock_guard<std::mutex> g(mu_);
  size_t before = q_.size;
  SyncRec* r = q_.claim_front(Grant::kRetry);
  set_queued(before);
  if (r != nullptr) complete(r->w);
}

void Mutex::unlink(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  size_t before = q_.size;
  q_.remove(r);
  set_queued(before);
}

void Mutex::abandon(SyncRec* r) {
  if (r->grant == Grant::kGranted) unlock();  // handed over to a waiter that left: release
  else if (r->grant == Grant::kRetry) wake_one();  // pass the wake-up on
}

// ---- RWMutex -----------------------------------------------------------------------------

RWMutex::RWMutex() : SyncPrim(Kind::RWMutex) {}

bool RWMutex::try_lock() {
  std::lock_guard<std::mutex> g(mu_);
  if (writer_ || readers_ > 0 || q_.size > 0) return false;
  writer_ = true;
  return true;
}

bool RWMutex::try_rlock() {
  std::lock_guard<std::mutex> g(mu_);
  if (writer_ || waiting_writers_ > 0) return false;
  readers_++;
  return true;
}

bool RWMutex::lock_or_queue(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  if (r->n == 1) {
    if (!writer_ && readers_ == 0 && q_.size == 0) {
      writer_ = true;
      return true;
    }
    waiting_writers_++;
  } else if (!writer_ && waiting_writers_ == 0) {
    readers_++;
    return true;
  }
  if (r->since_ns == 0) r->since_ns = now_ns();
  q_.push_back(r);
  return false;
}

// Grants from the head of the queue in FIFO order: a run of readers together, or one writer
// once no reader holds the lock. Readers queued behind a writer wait for it.
void RWMutex::grant_locked() {
  while (!writer_ && q_.head != nullptr) {
    SyncRec* h = q_.head;
    if (h->n == 1) {
      if (readers_ > 0) return;
      q_.remove(h);
      waiting_writers_--;
      if (h->w->try_claim_index(0)) {
        h->grant = Grant::kGranted;
        writer_ = true;
        complete(h->w);
      }
    } else {
      q_.remove(h);
      if (h->w->try_claim_index(0)) {
        h->grant = Grant::kGranted;
        readers_++;
        complete(h->w);
      }
    }
  }
}

bool RWMutex::unlock() {
  std::lock_guard<std::mutex> g(mu_);
  if (!writer_) return false;
  writer_ = false;
  grant_locked();
  return true;
}

bool RWMutex::runlock() {
  std::lock_guard<std::mutex> g(mu_);
  if (readers_ == 0) return false;
  readers_--;
  if (readers_ == 0) grant_locked();
  return true;
}

void RWMutex::unlink(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  if (!r->queued) return;
  q_.remove(r);
  if (r->n == 1) waiting_writers_--;
  grant_locked();  // a writer that gave up may have been holding readers back
}

void RWMutex::abandon(SyncRec* r) {
  if (r->grant != Grant::kGranted) return;
  if (r->n == 1) unlock(); else runlock();
}

}  // namespace weft
