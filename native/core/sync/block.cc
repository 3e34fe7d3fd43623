// block.cc — see block.h.
#include "core/sync/block.h"

#include "core/blocked.h"

namespace weft {

namespace {

constexpr int32_t kCodeOk = abi::ix(abi::Code::Ok);
constexpr int32_t kCodeTimeout = abi::ix(abi::Code::Timeout);
constexpr int32_t kCodeStopped = abi::ix(abi::Code::Stopped);
constexpr int32_t kCodeCanceled = abi::ix(abi::Code::Canceled);
constexpr int32_t kCodeDeadlock = abi::ix(abi::Code::Deadlock);

struct Probe {
  const BlockThread* t;
  Shared* deadlock_on;  // lockSync/rlockSync: check for a lock cycle every slice
  std::string cycle;    // a lock cycle, or why nobody can end the wait: reported as kDeadlock
  // For the asleep check (a wait with no deadline only): what is waited on, and this round's
  // Waiter, whose claim tells a wait that just completed from one nobody can end.
  SyncPrim* prim = nullptr;
  Channel* done = nullptr;
  const char* what = nullptr;
  const Waiter* w = nullptr;
};

// The thread holding a Mutex or an RWMutex's write lock (0: none or unknown), for the cycle check.
int32_t holder_of(Shared* s) { return int32_t(s->holder_thread()); }

// Runs on the blocked thread only (park() polls it each slice): probe.cycle needs no
// synchronization. find_lock_cycle reads the blocked list under its own lock (blocked.cc).
bool probe_fn(void* arg) {
  auto* p = static_cast<Probe*>(arg);
  if (p->deadlock_on != nullptr) {
    p->cycle = find_lock_cycle(p->t->id, p->deadlock_on, holder_of);
    if (!p->cycle.empty()) return true;
  }
  if (p->t->stop != nullptr && p->t->stop(p->t->stop_arg)) return true;
  if (p->prim != nullptr && p->t->asleep != nullptr &&
      p->t->asleep(p->t->asleep_arg, p->prim, p->done, p->what, &p->cycle)) {
    // A grant just before a holder let go leaves counts that say "nobody else": the claim
    // decides (see ThreadCtx::sync_probe, which pairs the same way with release()).
    std::atomic_thread_fence(std::memory_order_acquire);
    if (p->w->state.load(std::memory_order_acquire) == kWaiting) return true;
    p->cycle.clear();
  }
  return false;
}

// Removes the done-channel case (under the channel's queue lock, which guards `queued`).
void dequeue_done(Channel* done, CaseRec* dr) {
  done->lock();
  done->dequeue_locked(dr);
  done->unlock();
}

}  // namespace

int32_t block_on(const BlockThread& t, SyncPrim* prim, const char* what, SyncRec& rec,
                 uint64_t deadline, Shared* deadlock_on, Channel* done, TakeFn take,
                 void* arg) {
  Probe probe{&t, deadlock_on, {}};
  if (deadline == 0) {
    probe.prim = prim;
    probe.done = done;
    probe.what = what;
  }
  bool first = true;
  for (;;) {
    // A fresh Waiter per round: a kRetry claim consumed the previous one. rec and dr are
    // published to claimers by the queue locks they are enqueued under.
    Waiter w;
    rec.w = &w;
    probe.w = &w;
    rec.grant = Grant::kNone;
    rec.thread = t.id;
    if (take(arg, &rec, first)) return kCodeOk;
    first = false;
    CaseRec dr;
    if (done != nullptr) {
      dr.ch = done;
      dr.w = &w;
      dr.index = 1;
      done->lock();
      if (done->closed()) {
        done->unlock();
        // The context already ended: withdraw from prim. The acq_rel cancel CAS pairs with
        // the primitive's claim: if it granted us first, wait for its completion (release
        // store of word, acquire in await_completion) before reading rec.grant.
        if (w.try_cancel()) {
          prim->unlink(&rec);
          return kCodeCanceled;
        }
        await_completion(&w);
        if (rec.grant == Grant::kRetry) {
          prim->abandon(&rec);
          return kCodeCanceled;
        }
        return kCodeOk;
      }
      done->enqueue_locked(&dr);
      done->unlock();
    }
    // Registered for dump() and other threads' lock-cycle checks; its fields are published by
    // the list's lock (blocked.cc). prim is alive: the caller holds a reference.
    // A record that never queued (a RateLimiter's timed wait, rate.cc) has no queue time:
    // its wait starts now.
    Blocked b{t.id, what, prim, rec.since_ns != 0 ? rec.since_ns : now_ns(), true};
    bool completed = false;
    if (deadlock_on != nullptr) {
      // Registered and checked as one step (blocked.cc): of two threads closing a cycle at
      // once, exactly one sees it here; the other sees no cycle and waits.
      probe.cycle = block_begin_check_cycle(&b, deadlock_on, holder_of);
      if (probe.cycle.empty()) completed = park(&w, deadline, probe_fn, &probe, t.spin_ns);
    } else {
      block_begin(&b);
      completed = park(&w, deadline, probe_fn, &probe, t.spin_ns);
    }
    block_end(&b);
    int32_t code = kCodeOk;
    if (!completed) {
      code = !probe.cycle.empty()                        ? kCodeDeadlock
             : (deadline != 0 && now_ns() >= deadline) ? kCodeTimeout
                                                       : kCodeStopped;
      // Give up: the acq_rel cancel CAS decides against a concurrent claim (prim's grant or
      // the done channel's close). Lost: the claimer's completion is coming; wait for it
      // (await_completion's acquire pairs with complete()'s release) and honour it below.
      if (w.try_cancel()) {
        prim->unlink(&rec);
        if (done != nullptr) dequeue_done(done, &dr);
        if (code == kCodeDeadlock && t.last_error != nullptr) *t.last_error = probe.cycle;
        return code;
      }
      await_completion(&w);
    }
    if (done != nullptr) {
      dequeue_done(done, &dr);
      // acquire: pairs with the claim CAS; state 1 = the done channel's case won.
      if (w.state.load(std::memory_order_acquire) == 1) {  // the context ended
        prim->unlink(&rec);
        return kCodeCanceled;
      }
    }
    if (code == kCodeStopped || (code != kCodeOk && rec.grant == Grant::kRetry)) {
      prim->abandon(&rec);
      // A cycle was seen, then a wake-up raced the give-up (the other side of the cycle let
      // go): still reported as the deadlock it was, with its description.
      if (code == kCodeDeadlock && t.last_error != nullptr) *t.last_error = probe.cycle;
      return code;
    }
    // rec.grant was written by the claimer before complete(); park()'s acquire of `word`
    // (or await_completion's) pairs with complete()'s release, so this plain read sees it.
    if (rec.grant != Grant::kRetry) return kCodeOk;  // granted (possibly at the last moment)
  }
}

}  // namespace weft
