// test_sync.cc — WaitGroup, Semaphore, Cond and Once (core/sync/): waits across threads with
// timeouts, no lost wake-ups, FIFO/weight rules, abandon() of a claimed waiter, and Once's
// single runner, kept outcome and retry after a runner exits.
#include <cstring>

#include "core/sync/cond.h"
#include "core/sync/once.h"
#include "core/sync/semaphore.h"
#include "core/sync/wait_group.h"
#include "sync_wait.h"

namespace wt {
namespace {

using weft::Cond;
using weft::Mutex;
using weft::Once;
using weft::Semaphore;
using weft::WaitGroup;
namespace abi = weft::abi;

void sleep_us(uint64_t us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

// ---- WaitGroup ---------------------------------------------------------------------------

constexpr uint32_t kWgCounter = abi::ix(abi::WaitGroupWord::Counter);
constexpr uint32_t kWgWaiters = abi::ix(abi::WaitGroupWord::Waiters);

// add(n) as lib/sync/sync.ts does it: a CAS loop on the Counter word that refuses to go below
// zero (MisuseError there; false here, nothing changed), then a wake-up when it reached zero
// with waiters published.
bool wg_add(WaitGroup* wg, int32_t n) {
  std::atomic<int32_t>* w = wg->words();
  int32_t cur = w[kWgCounter].load(std::memory_order_seq_cst);
  int32_t next;
  do {
    next = cur + n;
    if (next < 0) return false;
  } while (!w[kWgCounter].compare_exchange_weak(cur, next, std::memory_order_seq_cst));
  if (next == 0 && w[kWgWaiters].load(std::memory_order_seq_cst) != 0) wg->wake_if_zero();
  return true;
}

int32_t wg_wait(WaitGroup* wg, uint64_t deadline = 0) {
  if (wg->words()[kWgCounter].load(std::memory_order_seq_cst) == 0) return kOk;
  SyncRec rec;
  return wait_prim(wg, rec, deadline, [wg](SyncRec* r, bool) { return wg->wait_or_queue(r); });
}

// Rounds of: W workers write their slot and done(); waiters (some with short timeouts) must
// see every slot of the round once their wait returns (TSan checks the happens-before).
TEST(waitgroup_rounds) {
  auto* wg = new WaitGroup();
  const int W = 3, K = 2;
  const size_t R = scaled(150);
  uint64_t slots[W] = {};  // plain: published by done() -> wait()
  for (size_t round = 1; round <= R; round++) {
    CHECK(wg_add(wg, W));
    std::vector<std::thread> ts;
    for (int k = 0; k < K; k++) {
      ts.emplace_back([&, k, round] {
        Rng rng(seed_for(500 + round * 8 + k));
        for (;;) {
          uint64_t deadline = rng.chance(40) ? deadline_in_us(rng.below(300)) : 0;
          if (wg_wait(wg, deadline) == kOk) break;
        }
        for (int i = 0; i < W; i++) CHECKF(slots[i] == round, "slot %d not written", i);
      });
    }
    for (int i = 0; i < W; i++) {
      ts.emplace_back([&, i, round] {
        if (round % 2 == 0) sleep_us(50 * uint64_t(i));
        slots[i] = round;
        CHECK(wg_add(wg, -1));
      });
    }
    join_all(ts);
    CHECK(wg->words()[kWgCounter].load() == 0);
    CHECKF(wg->words()[kWgWaiters].load() == 0, "waiters word %d",
           int(wg->words()[kWgWaiters].load()));
  }
  wg->release();
}

// done() past zero is refused and changes nothing; of concurrent done()s exactly the counter's
// worth succeed, and a queued waiter is woken by the one that reaches zero.
TEST(waitgroup_negative_misuse) {
  auto* wg = new WaitGroup();
  CHECK(!wg_add(wg, -1));
  CHECK(wg->words()[kWgCounter].load() == 0);
  const int T = 6;
  for (size_t round = 0; round < scaled(50); round++) {
    CHECK(wg_add(wg, 2));
    std::atomic<int> ok{0}, refused{0};
    std::thread waiter([&] { CHECK(wg_wait(wg) == kOk); });
    std::vector<std::thread> ts;
    for (int t = 0; t < T; t++)
      ts.emplace_back([&] { (wg_add(wg, -1) ? ok : refused).fetch_add(1); });
    join_all(ts);
    waiter.join();
    CHECK(ok.load() == 2 && refused.load() == T - 2);
    CHECK(wg->words()[kWgCounter].load() == 0);
  }
  // Waiters that time out leave the Waiters word as they found it.
  CHECK(wg_add(wg, 1));
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; t++)
    ts.emplace_back([&] { CHECK(wg_wait(wg, deadline_in_us(3000)) == kTimeout); });
  join_all(ts);
  CHECK(wg->words()[kWgWaiters].load() == 0);
  CHECK(wg_add(wg, -1));
  wg->release();
}

// ---- Semaphore ---------------------------------------------------------------------------

// The head of the queue blocks everyone behind it (a large acquire is not starved by small
// ones); when it gives up, those behind it are re-examined; a granted acquire whose owner left
// gives its permits back (abandon).
TEST(semaphore_fifo_weights) {
  auto* s = new Semaphore(4);
  CHECK(!s->release_permits(1));  // more than acquired: misuse, nothing changes
  CHECK(s->try_acquire(3));
  RawRec big(1, 4), small(2, 1);
  CHECK(!s->acquire_or_queue(&big.rec));
  CHECK(!s->try_acquire(1));  // one permit free, but an acquire is queued: FIFO
  CHECK(!s->acquire_or_queue(&small.rec));
  CHECK(!small.completed());
  CHECK(big.w->try_cancel());  // the big one times out
  s->unlink(&big.rec);
  CHECK(small.completed() && small.rec.grant == Grant::kGranted);
  int64_t avail;
  size_t queued;
  s->state(&avail, &queued);
  CHECK(avail == 0 && queued == 0);
  RawRec big2(3, 4);
  CHECK(!s->acquire_or_queue(&big2.rec));
  CHECK(s->release_permits(3));
  CHECK(!big2.completed());  // 3 of 4
  CHECK(s->release_permits(1));
  CHECK(big2.completed() && big2.rec.grant == Grant::kGranted);
  s->abandon(&big2.rec);  // its owner left: the 4 permits come back
  s->state(&avail, &queued);
  CHECK(avail == 4 && queued == 0);
  CHECK(!s->release_permits(1));
  s->release();
}

// Threads acquire random weights (some try_acquire, some with timeouts): the permits held never
// exceed the size, and all come back.
TEST(semaphore_stress) {
  const int64_t S = 6;
  auto* s = new Semaphore(S);
  std::atomic<int64_t> held{0};
  std::atomic<uint64_t> grants{0}, timeouts{0};
  const int T = 4;
  const size_t N = scaled(4000);
  std::vector<std::thread> ts;
  spawn(ts, T, 600, [&](int, Rng& rng) {
    for (size_t i = 0; i < N; i++) {
      int64_t n = 1 + int64_t(rng.below(rng.chance(10) ? uint64_t(S) : 3));
      bool got;
      if (rng.chance(20)) {
        got = s->try_acquire(n);
      } else {
        uint64_t deadline = rng.chance(25) ? deadline_in_us(rng.below(300)) : 0;
        got = sem_acquire(s, n, deadline) == kOk;
        if (!got) timeouts.fetch_add(1, std::memory_order_relaxed);
      }
      if (!got) continue;
      int64_t now = held.fetch_add(n) + n;
      CHECKF(now <= S, "%" PRId64 " permits held of %" PRId64, now, S);
      if (rng.chance(30)) spin_for(rng.below(3000));
      held.fetch_sub(n);
      grants.fetch_add(1, std::memory_order_relaxed);
      CHECK(s->release_permits(n));
    }
  });
  join_all(ts);
  int64_t avail;
  size_t queued;
  s->state(&avail, &queued);
  CHECKF(avail == S && queued == 0, "avail %" PRId64 " queued %zu", avail, queued);
  std::printf("grants %" PRIu64 ", timeouts %" PRIu64 "\n", grants.load(), timeouts.load());
  s->release();
}

// ---- Cond --------------------------------------------------------------------------------

// Cond.wait as the binding does it: queue first, then unlock, so that a signal sent after the
// unlock finds the waiter queued; then lock again (whatever the outcome).
int32_t cond_wait(Cond* c, uint64_t deadline = 0) {
  Mutex* m = c->mutex();
  CHECK(m->locked());
  SyncRec rec;
  int32_t r = wait_prim(c, rec, deadline, [c, m](SyncRec* q, bool first) {
    if (first) {
      c->queue(q);
      CHECK(m->unlock());
    }
    return false;
  });
  CHECK(mutex_lock(m) == kOk);
  return r;
}

// Producers add items and signal once per item; consumers wait while there are none (some with
// timeouts). A lost signal leaves a consumer asleep with items left: the watchdog reports it.
TEST(cond_no_lost_wakeups) {
  auto* m = new Mutex();
  auto* c = new Cond(m);
  const int P = 2, C = 3;
  const size_t N = scaled(3000);
  const size_t total = P * N;
  size_t items = 0, consumed = 0;  // guarded by m
  std::vector<std::thread> ts;
  spawn(ts, P, 700, [&](int, Rng& rng) {
    for (size_t i = 0; i < N; i++) {
      CHECK(mutex_lock(m) == kOk);
      items++;
      bool bcast = rng.chance(5);
      CHECK(m->unlock());
      if (bcast) c->broadcast(); else c->signal();  // after unlock, as Go allows
      if (rng.chance(10)) spin_for(rng.below(2000));
    }
  });
  spawn(ts, C, 800, [&](int, Rng& rng) {
    CHECK(mutex_lock(m) == kOk);
    for (;;) {
      while (items == 0 && consumed < total) {
        uint64_t deadline = rng.chance(10) ? deadline_in_us(rng.below(500)) : 0;
        cond_wait(c, deadline);
      }
      if (consumed == total) break;
      items--;
      consumed++;
      if (consumed == total) c->broadcast();  // release the other consumers
      if (rng.chance(10)) {  // let the others in
        CHECK(m->unlock());
        CHECK(mutex_lock(m) == kOk);
      }
    }
    CHECK(m->unlock());
  });
  join_all(ts);
  CHECK(items == 0 && consumed == total);
  CHECK(c->waiters() == 0 && !m->locked());
  c->release();
  m->release();
}

// Signal wakes the oldest waiter, broadcast all; a signalled waiter whose owner left passes the
// signal on (abandon).
TEST(cond_signal_broadcast_abandon) {
  auto* m = new Mutex();
  auto* c = new Cond(m);
  m->release();  // the Cond keeps its mutex alive
  RawRec a, b, d;
  c->queue(&a.rec);
  c->queue(&b.rec);
  c->queue(&d.rec);
  c->signal();
  CHECK(a.completed() && a.rec.grant == Grant::kDone && !b.completed());
  c->abandon(&a.rec);
  CHECK(b.completed() && !d.completed());
  c->broadcast();
  CHECK(d.completed() && c->waiters() == 0);
  c->signal();  // nobody queued: nothing to do (no signal is kept)
  RawRec e;
  c->queue(&e.rec);
  CHECK(!e.completed());
  CHECK(e.w->try_cancel());
  c->unlink(&e.rec);
  CHECK(c->waiters() == 0);

  // Threads: K waiters queue, then one broadcast under the lock releases every one of them.
  const int K = 4;
  bool flag = false;  // guarded by the mutex
  std::vector<std::thread> ts;
  for (size_t round = 0; round < scaled(20); round++) {
    flag = false;
    for (int k = 0; k < K; k++) {
      ts.emplace_back([&] {
        CHECK(mutex_lock(c->mutex()) == kOk);
        while (!flag) cond_wait(c);
        CHECK(c->mutex()->unlock());
      });
    }
    while (c->waiters() < size_t(K)) sleep_us(50);
    CHECK(mutex_lock(c->mutex()) == kOk);
    flag = true;
    c->broadcast();
    CHECK(c->mutex()->unlock());
    join_all(ts);
  }
  c->release();
}

// ---- Once --------------------------------------------------------------------------------

uint64_t msg_bits_id(const weft::Message* m) {
  uint64_t id;
  CHECK(m != nullptr && m->bytes.size() >= 8);
  std::memcpy(&id, m->bytes.data(), 8);
  return id;
}

// Many threads call do(fn) on one Once: exactly one runs fn to completion; a runner may "exit"
// instead (runner_exited), and then the waiters retry and a new runner takes over. Every caller
// returns with the one outcome (value or error alike: an error is kept, not retried).
TEST(once_single_runner) {
  const int T = 4;
  const size_t R = scaled(150);
  for (size_t round = 0; round < R; round++) {
    auto* o = new Once();
    std::atomic<int> finishes{0}, starts{0}, exits{0};
    uint64_t written = 0;  // plain: written by the runner, read by everyone after kDone
    const bool as_error = round % 3 == 0;
    std::vector<std::thread> ts;
    spawn(ts, T, 900 + round * 8, [&](int, Rng& rng) {
      uint64_t me = test_thread_id();
      for (;;) {
        // As onceWaitSync: enter, or queue until the runner finishes (kDone) or exits
        // (kRetry: block_on calls take again with first = false; start over with enter()).
        int32_t st = -1;
        bool retry = false;
        SyncRec rec;
        int32_t r = wait_prim(o, rec, 0, [&](SyncRec* q, bool first) {
          if (!first) {
            retry = true;
            return true;
          }
          return (st = o->enter(me, q)) != Once::kRunning;
        });
        CHECK(r == kOk);
        if (retry) continue;  // the runner exited: start over
        if (st == Once::kIdle) {  // this thread runs fn
          CHECK(o->running_on(me));
          starts.fetch_add(1);
          if (rng.chance(5)) spin_for(rng.below(20000));
          if (rng.chance(25)) {  // the runner's thread exits before finishing
            exits.fetch_add(1);
            o->runner_exited(me);
            return;
          }
          written = 1000 + round;
          finishes.fetch_add(1);
          o->finish(weft::to_message(make_msg(round)),
                    as_error ? Once::kError : Once::kValue);
          o->runner_exited(me);  // after finish: a no-op
        }
        break;
      }
      // Every caller that did not exit sees the one outcome.
      CHECK(o->state() == Once::kDone);
      CHECK(written == 1000 + round);
      CHECK(msg_bits_id(o->result()) == round);
      CHECK(o->outcome() == (as_error ? Once::kError : Once::kValue));
    });
    join_all(ts);
    if (finishes.load() == 0) {
      // Every thread happened to exit while running fn: nobody finished; it is idle again.
      CHECK(o->state() == Once::kIdle && starts.load() == exits.load());
    } else {
      CHECK(finishes.load() == 1);
      CHECK(starts.load() == exits.load() + 1);
    }
    o->release();
  }
}

// finish() after the runner was declared gone drops the result (no leak: LeakSanitizer), and a
// runner_exited() by another thread than the runner changes nothing.
TEST(once_finish_after_exit) {
  auto* o = new Once();
  CHECK(o->enter(1, nullptr) == Once::kIdle);
  CHECK(o->enter(2, nullptr) == Once::kRunning);
  CHECK(o->running_on(1) && !o->running_on(2));
  o->runner_exited(2);
  CHECK(o->state() == Once::kRunning);
  o->runner_exited(1);
  CHECK(o->state() == Once::kIdle);
  o->finish(weft::to_message(make_msg(7)), Once::kValue);  // too late: dropped
  CHECK(o->state() == Once::kIdle && o->result() == nullptr);
  CHECK(o->enter(2, nullptr) == Once::kIdle);
  o->finish(weft::to_message(make_msg(8)), Once::kCloneError);
  CHECK(o->enter(3, nullptr) == Once::kDone);
  CHECK(msg_bits_id(o->result()) == 8 && o->outcome() == Once::kCloneError);
  o->release();
}

}  // namespace
}  // namespace wt
