// test_async_sync.cc — the AsyncOp state machine (core/park/async_op.h) on sync primitives:
// asynchronous Semaphore acquires and Mutex locks (with the Grant::kRetry re-queue of a
// normal-mode wake-up and the direct hand-over of starvation mode), racing cancels and owner
// teardown, against synchronous block_on waiters (core/sync/block.h) with deadlines. No more
// permits or lock holders than allowed at any time; at the end every permit is back, the
// mutex is free with nobody queued, and nothing leaked.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <unordered_set>

#include "core/park/async_op.h"
#include "core/sync/mutex.h"
#include "core/sync/semaphore.h"
#include "sync_wait.h"

namespace wt {
namespace {

using weft::AsyncOp;
using weft::AsyncResult;
using weft::Mutex;
using weft::Semaphore;
constexpr int64_t kPermits = 3;

struct Shared2 {
  Semaphore* sem;
  Mutex* mu;
  std::atomic<int64_t> permits_held{0};
  std::atomic<bool> in_cs{false};
  void got_permits(int64_t n) {
    int64_t now = permits_held.fetch_add(n) + n;
    CHECKF(now <= kPermits, "%lld permits held", (long long)now);
  }
  void put_permits(int64_t n) {
    permits_held.fetch_sub(n);
    CHECK(sem->release_permits(n));
  }
  void got_lock() { CHECK(!in_cs.exchange(true)); }
  void put_lock() {
    CHECK(in_cs.exchange(false));
    CHECK(mu->unlock());
  }
};

bool mutex_retry(AsyncOp* op) {  // as the addon's: queue again at the front, or take it
  return static_cast<Mutex*>(op->prim)->lock_or_queue(&op->srec, true);
}

// An owner thread with up to two async waits pending; holds what it gets for a while.
void async_owner(Shared2* sh, uint64_t thread, size_t rounds, Rng rng, size_t* stats) {
  Wake wake;
  auto inbox = std::make_shared<weft::Inbox>(&Wake::fn, &wake);
  std::vector<AsyncOp*> pending;
  std::unordered_set<AsyncOp*> lost;
  std::vector<int64_t> held;  // permits per grant; 0 = the mutex
  auto got = [&](AsyncOp* op) {
    if (op->prim == sh->mu) {
      sh->got_lock();
      held.push_back(0);
    } else {
      sh->got_permits(op->srec.n);
      held.push_back(op->srec.n);
    }
    progress();
  };
  auto put_one = [&] {
    int64_t n = held.back();
    held.pop_back();
    if (n == 0) sh->put_lock();
    else sh->put_permits(n);
  };
  size_t done = 0;
  while (done < rounds) {
    while (pending.size() + lost.size() < 2 && held.size() < 2) {
      auto* op = new AsyncOp();
      bool lock = rng.chance(50);
      op->prim = lock ? static_cast<weft::SyncPrim*>(sh->mu) : sh->sem;
      op->srec.n = lock ? 1 : int64_t(1 + rng.below(2));
      op->retry = lock ? mutex_retry : nullptr;
      weft::async_prepare(op, inbox, thread);  // before queueing: a peer may complete it
      bool now = lock ? sh->mu->lock_or_queue(&op->srec, false)
                      : sh->sem->acquire_or_queue(&op->srec);
      if (now) {
        got(op);
        delete op;  // never queued, never retained (as ThreadCtx's wait_async)
        done++;
        continue;
      }
      op->prim->retain();  // start_sync_async: the op keeps its primitive alive
      pending.push_back(op);
    }
    if (!held.empty() && rng.chance(40)) put_one();
    if (!pending.empty() && rng.chance(25)) {
      size_t k = rng.below(pending.size());
      AsyncOp* op = pending[k];
      pending.erase(pending.begin() + long(k));
      if (weft::async_cancel(op, kCanceled, false)) {
        stats[0]++;
        weft::async_free(op);
        done++;
      } else {
        stats[1]++;
        lost.insert(op);
      }
    }
    wake.wait(rng.chance(50) ? 0 : 100000);
    for (Waiter* w : inbox->drain()) {
      auto* op = static_cast<AsyncOp*>(w);
      auto it = std::find(pending.begin(), pending.end(), op);
      if (it != pending.end()) pending.erase(it);
      else CHECK(lost.erase(op) == 1);
      AsyncResult r = weft::async_process(op, &rng.s);
      if (r.pending) {  // a mutex wake-up that lost the retry: queued again at the front
        CHECK(op->cancel_code == 0);
        stats[2]++;
        pending.push_back(op);
        continue;
      }
      if (r.code == kOk) got(op);  // granted, even when a cancel lost the race
      else CHECKF(r.code == kCanceled, "code %d", int(r.code));
      weft::async_free(op);
      done++;
    }
  }
  // Teardown with waits pending (and completions delivered but not processed): grants in
  // flight are given back by async_drain_abandoned.
  wake.wait(500000);
  size_t claimed = lost.size();
  for (AsyncOp* op : pending) {
    if (weft::async_withdraw(op)) weft::async_free(op);
    else claimed++;
  }
  stats[3] += claimed;
  weft::async_drain_abandoned(inbox.get(), claimed);
  inbox->close();
  while (!held.empty()) put_one();
}

TEST(async_op_sync_prims_cancel_teardown) {
  const int64_t live0 = Shared::live_count();
  Shared2 sh;
  sh.sem = new Semaphore(kPermits);
  sh.mu = new Mutex();
  const int O = 3, T = 2;
  const size_t rounds = scaled(3000);
  size_t stats[O][4] = {};
  std::vector<std::thread> threads;
  for (int o = 0; o < O; o++)
    threads.emplace_back(async_owner, &sh, uint64_t(10 + o), rounds, Rng(seed_for(2500 + o)),
                         stats[o]);
  std::atomic<size_t> timeouts{0};
  spawn(threads, T, 2600, [&](int t, Rng& rng) {
    uint64_t spin = weft::kSpinMaxNs / 2;
    BlockThread me;
    me.id = uint64_t(20 + t);
    me.spin_ns = &spin;
    for (size_t i = 0; i < rounds; i++) {
      uint64_t deadline = rng.chance(50) ? weft::now_ns() + rng.below(300000) : 0;
      bool lock = rng.chance(50);
      int64_t n = int64_t(1 + rng.below(2));
      int32_t code = lock ? mutex_lock(me, sh.mu, deadline) : sem_acquire(me, sh.sem, n, deadline);
      if (code == kTimeout) {
        timeouts++;
        continue;
      }
      CHECKF(code == kOk, "code %d", int(code));
      if (lock) sh.got_lock();
      else sh.got_permits(n);
      spin_for(rng.below(20000));
      if (lock) sh.put_lock();
      else sh.put_permits(n);
    }
  });
  join_all(threads);
  int64_t avail = 0;
  size_t queued = 0;
  sh.sem->state(&avail, &queued);
  CHECKF(avail == kPermits && queued == 0, "avail %lld queued %zu", (long long)avail, queued);
  CHECK(!sh.mu->locked());
  CHECK(sh.mu->words()[weft::abi::ix(weft::abi::MutexWord::State)].load() == 0);
  for (auto& s : stats)
    std::printf("  owner: cancels won %zu lost %zu, re-queued %zu, abandoned %zu\n", s[0], s[1],
                s[2], s[3]);
  std::printf("  sync waits timed out: %zu\n", timeouts.load());
  sh.sem->release();
  sh.mu->release();
  CHECK(Shared::live_count() == live0);
}

}  // namespace
}  // namespace wt
