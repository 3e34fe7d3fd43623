// mutex.cc — see mutex.h.
#include "core/sync/mutex.h"

namespace weft {

namespace {
constexpr uint64_t kStarvationNs = 1'000'000;  // Go's starvationThresholdNs
}  // namespace

// ---- Mutex -------------------------------------------------------------------------------

Mutex::Mutex() : SyncPrim(Kind::Mutex) {
  for (auto& w : words_) w.store(0, std::memory_order_relaxed);
}

// The State word is shared with JavaScript (lib/sync/mutex.ts: tryLock's CAS 0 -> locked,
// unlock's CAS locked -> 0 when nobody is queued). Every change of it is seq_cst (CAS,
// fetch_add, fetch_and), pairing with those Atomics operations: taking the lock acquires what
// the last holder wrote, and a JS unlock that finds the queued count (set_queued, under mu_)
// non-zero calls unlock() here instead. The Owner word is a holder hint only (relaxed).

bool Mutex::try_lock(int32_t thread) {
  // relaxed: only a first guess for the CAS, which re-reads the word.
  int32_t c = words_[kState].load(std::memory_order_relaxed);
  while ((c & abi::kMutexLocked) == 0) {
    if (words_[kState].compare_exchange_weak(c, c | abi::kMutexLocked, std::memory_order_seq_cst)) {
      words_[kOwner].store(thread, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

// seq_cst: a waiter's count is in the word before lock_or_queue's try_lock, so an unlock (JS
// or native) after that try_lock failed sees it and wakes the queue (Dekker pair).
void Mutex::set_queued(size_t before) {
  int32_t delta = 2 * (int32_t(q_.size) - int32_t(before));
  if (delta != 0) words_[kState].fetch_add(delta, std::memory_order_seq_cst);
}

bool Mutex::lock_or_queue(SyncRec* r, bool front) {
  std::lock_guard<std::mutex> g(mu_);
  size_t before = q_.size;
  q_.enqueue(r, front);
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
  // acquire: pairs with the locking CAS (JS or try_lock); misuse check only, under mu_.
  if ((words_[kState].load(std::memory_order_acquire) & abi::kMutexLocked) == 0) return false;
  size_t before = q_.size;
  SyncRec* head = q_.head;
  if (head != nullptr && now_ns() - head->since_ns > kStarvationNs) {
    // Starvation mode: the lock stays taken and passes straight to the longest waiter.
    if (SyncRec* r = q_.claim_front(Grant::kGranted)) {
      words_[kOwner].store(int32_t(r->thread), std::memory_order_relaxed);
      set_queued(before);
      complete(r->w);
      return true;
    }
  }
  words_[kOwner].store(0, std::memory_order_relaxed);
  // seq_cst release of the lock: pairs with the next locker's CAS (JS or try_lock).
  words_[kState].fetch_and(~abi::kMutexLocked, std::memory_order_seq_cst);
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

void RWMutex::add_reader_locked(uint64_t thread) {
  readers_++;
  if (readers_unknown_) return;
  for (auto& [t, n] : reader_threads_) {
    if (t == thread) {
      n++;
      return;
    }
  }
  reader_threads_.emplace_back(thread, 1);
}

bool RWMutex::try_lock(uint64_t thread) {
  std::lock_guard<std::mutex> g(mu_);
  if (writer_ || readers_ > 0 || q_.size > 0) return false;
  writer_ = true;
  writer_thread_.store(thread, std::memory_order_relaxed);
  return true;
}

bool RWMutex::try_rlock(uint64_t thread) {
  std::lock_guard<std::mutex> g(mu_);
  if (writer_ || waiting_writers_ > 0) return false;
  add_reader_locked(thread);
  return true;
}

bool RWMutex::lock_or_queue(SyncRec* r) {
  std::lock_guard<std::mutex> g(mu_);
  if (r->n == 1) {
    if (!writer_ && readers_ == 0 && q_.size == 0) {
      writer_ = true;
      writer_thread_.store(r->thread, std::memory_order_relaxed);
      return true;
    }
    waiting_writers_++;
  } else if (!writer_ && waiting_writers_ == 0) {
    add_reader_locked(r->thread);
    return true;
  }
  q_.enqueue(r);
  return false;
}

// Grants from the head of the queue in FIFO order: a run of readers together, or one writer
// once no reader holds the lock. Readers queued behind a writer wait for it.
void RWMutex::grant_locked() {
  while (!writer_ && q_.head != nullptr) {
    SyncRec* h = q_.head;
    if (h->n == 1) {
      if (readers_ > 0) return;
      waiting_writers_--;
      if (q_.claim(h, Grant::kGranted)) {
        writer_ = true;
        writer_thread_.store(h->thread, std::memory_order_relaxed);
        complete(h->w);
      }
    } else if (q_.claim(h, Grant::kGranted)) {
      add_reader_locked(h->thread);
      complete(h->w);
    }
  }
}

bool RWMutex::unlock() {
  std::lock_guard<std::mutex> g(mu_);
  if (!writer_) return false;
  writer_ = false;
  writer_thread_.store(0, std::memory_order_relaxed);
  grant_locked();
  return true;
}

bool RWMutex::runlock(uint64_t thread) {
  std::lock_guard<std::mutex> g(mu_);
  if (readers_ == 0) return false;
  readers_--;
  if (readers_ == 0) {
    reader_threads_.clear();
    readers_unknown_ = false;
    grant_locked();
    return true;
  }
  if (readers_unknown_) return true;
  // Not owned: any thread may runlock. Take it from the caller's own read locks, else from the
  // only thread holding any; with several candidates, who still holds what is unknown.
  size_t pick = reader_threads_.size();
  for (size_t i = 0; i < reader_threads_.size(); i++) {
    if (reader_threads_[i].first == thread) pick = i;
  }
  if (pick == reader_threads_.size() && reader_threads_.size() == 1) pick = 0;
  if (pick == reader_threads_.size()) {
    readers_unknown_ = true;
    reader_threads_.clear();
  } else if (--reader_threads_[pick].second == 0) {
    reader_threads_.erase(reader_threads_.begin() + long(pick));
  }
  return true;
}

RWMutex::Held RWMutex::held_by(uint64_t thread) {
  std::lock_guard<std::mutex> g(mu_);
  if (writer_ && writer_thread_.load(std::memory_order_relaxed) == thread) return kHoldsWrite;
  if (readers_unknown_) return kHoldsNothing;
  for (auto& [t, n] : reader_threads_) {
    if (t == thread && n > 0) return kHoldsRead;
  }
  return kHoldsNothing;
}

RWMutex::State RWMutex::state() {
  std::lock_guard<std::mutex> g(mu_);
  return State{readers_, writer_, q_.size};
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
  if (r->n == 1) unlock(); else runlock(r->thread);
}

}  // namespace weft
