// cond.h — Go's sync.Cond across threads, tied to a Mutex, with a FIFO wait queue (waitq.h).
#pragma once

#include <mutex>

#include "core/park/waitq.h"
#include "core/sync/mutex.h"

namespace weft {

// Waiters queue in FIFO order; signal wakes the oldest, broadcast all. The caller holds the
// associated Mutex when it queues and releases it after queueing, so a signal sent after the
// caller released the mutex cannot be missed.
class Cond final : public SyncPrim {
 public:
  explicit Cond(Mutex* mu);  // retains mu
  ~Cond() override;
  Mutex* mutex() const { return mu_obj_; }
  void queue(SyncRec* r);
  void signal();
  void broadcast();
  size_t waiters();  // queued now (diagnostics)
  void unlink(SyncRec* r) override;
  void abandon(SyncRec* r) override;

 private:
  Mutex* const mu_obj_;
  std::mutex mu_;
  SyncQueue q_;  // guarded by mu_
};

}  // namespace weft
