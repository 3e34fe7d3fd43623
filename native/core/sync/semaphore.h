// semaphore.h — x/sync/semaphore's weighted semaphore across threads, with a FIFO wait queue (waitq.h).
#pragma once

#include <cstdint>
#include <mutex>

#include "core/park/waitq.h"

namespace weft {

// Weighted FIFO semaphore: a waiter at the head blocks everyone behind it (a large acquire is
// never starved by small ones); when the head gives up, those behind it are re-examined.
class Semaphore final : public SyncPrim {
 public:
  explicit Semaphore(int64_t size);
  int64_t size() const { return size_; }
  bool try_acquire(int64_t n);
  bool acquire_or_queue(SyncRec* r);  // r->n permits
  // Gives n permits back. false: more than acquired (misuse; nothing changed). (Not named
  // release(): that is Shared's reference count.)
  bool release_permits(int64_t n);
  // Permits available now and acquires queued (diagnostics).
  void state(int64_t* avail, size_t* queued);
  void unlink(SyncRec* r) override;
  void abandon(SyncRec* r) override;

 private:
  void grant_locked();
  const int64_t size_;
  std::mutex mu_;
  int64_t avail_;  // guarded by mu_
  SyncQueue q_;    // guarded by mu_
};

}  // namespace weft
