// test_block.cc — block_on (core/sync/block.h), the wait behind every *Sync call on a sync
// primitive: timeouts, a context's done channel closing while threads wait (and racing a
// grant), the teardown probe, wake-ups under load, and the lock-cycle check.
#include <mutex>
#include <string>

#include "core/sync/mutex.h"
#include "core/sync/semaphore.h"
#include "sync_wait.h"

namespace wt {
namespace {

using weft::Mutex;
using weft::Semaphore;

void expect_sem(Semaphore* s, int64_t avail, size_t queued) {
  int64_t a = 0;
  size_t q = 0;
  s->state(&a, &q);
  CHECKF(a == avail && q == queued, "avail %lld (want %lld), queued %zu (want %zu)",
         (long long)a, (long long)avail, q, queued);
}

// Timeouts take nothing and leave nothing queued; a done channel closed while threads wait
// cancels every one of them; a close racing a release cancels all but at most one, which
// then holds the permit.
TEST(block_on_timeout_and_cancel) {
  const int64_t live0 = Shared::live_count();
  auto* s = new Semaphore(1);
  CHECK(s->try_acquire(1));
  const int W = 4;
  std::vector<std::thread> ts;
  for (int i = 0; i < W; i++) {
    ts.emplace_back([&, i] {
      BlockThread t;
      t.id = uint64_t(1 + i);
      uint64_t start = weft::now_ns();
      CHECK(sem_acquire(t, s, 1, start + 2'000'000, nullptr) == kTimeout);
      CHECK(weft::now_ns() >= start + 2'000'000);
    });
  }
  join_all(ts);
  expect_sem(s, 0, 0);

  const size_t rounds = scaled(200);
  size_t raced_ok = 0;
  for (size_t round = 0; round < rounds; round++) {
    auto* done = new Channel(0, Elem::Bool);
    std::atomic<int> oks{0}, canceled{0};
    for (int i = 0; i < W; i++) {
      ts.emplace_back([&, i] {
        BlockThread t;
        t.id = uint64_t(1 + i);
        int32_t code = sem_acquire(t, s, 1, 0, done);
        if (code == kOk) oks++;
        else CHECKF(code == kCanceled, "code %d", int(code));
        if (code == kCanceled) canceled++;
      });
    }
    bool race = round % 2 == 1;
    if (!race) {  // everyone queued, then the context ends
      for (;;) {
        int64_t a;
        size_t q;
        s->state(&a, &q);
        if (q == size_t(W)) break;
        std::this_thread::yield();
      }
      CHECK(done->close());
    } else {  // one permit races the close
      Rng rng(seed_for(round));
      spin_for(rng.below(200000));
      std::atomic<bool> go{false};
      std::thread releaser([&] {
        while (!go.load()) weft::cpu_relax();
        CHECK(s->release_permits(1));
      });
      go.store(true);
      if (rng.chance(50)) std::this_thread::yield();
      CHECK(done->close());
      releaser.join();
    }
    join_all(ts);
    CHECK(oks.load() + canceled.load() == W);
    CHECK(oks.load() <= (race ? 1 : 0));
    if (race && oks.load() == 0) expect_sem(s, 1, 0);  // nobody took it: still there
    if (race && oks.load() == 1) raced_ok++;  // that waiter keeps the permit taken
    if (race && oks.load() == 0) CHECK(s->try_acquire(1));  // take it again for the next round
    expect_sem(s, 0, 0);
    // A wait that starts on an already-closed done channel is canceled at once.
    BlockThread t;
    t.id = 9;
    CHECK(sem_acquire(t, s, 1, 0, done) == kCanceled);
    expect_sem(s, 0, 0);
    done->release();
  }
  std::printf("  %zu of %zu races: a waiter got the permit before the close\n", raced_ok,
              rounds / 2);
  CHECK(s->release_permits(1));
  expect_sem(s, 1, 0);
  s->release();
  CHECK(Shared::live_count() == live0);
}

// Many threads on a Semaphore(2) and a Mutex: random deadlines, done channels closed by a
// controller, stop requests. Never more holders than allowed; everything back at the end.
TEST(block_on_wakeups_under_load) {
  const int64_t live0 = Shared::live_count();
  const int W = 4;
  const size_t rounds = scaled(1500);
  auto* s = new Semaphore(2);
  auto* m = new Mutex();
  std::atomic<int64_t> permits{0};
  std::atomic<bool> in_cs{false};
  std::mutex slots_mu;
  Channel* slots[W];  // each worker's current done channel (a reference each), by slots_mu
  std::atomic<bool> stop[W];
  for (int i = 0; i < W; i++) {
    slots[i] = new Channel(0, Elem::Bool);
    stop[i].store(false);
  }
  std::atomic<size_t> codes[8] = {};
  std::atomic<bool> finished{false};
  std::vector<std::thread> ts;
  spawn(ts, W, 3000, [&](int i, Rng& rng) {
    uint64_t spin = weft::kSpinMaxNs / 2;
    BlockThread t;
    t.id = uint64_t(1 + i);
    t.spin_ns = &spin;
    t.stop = [](void* a) { return static_cast<std::atomic<bool>*>(a)->exchange(false); };
    t.stop_arg = &stop[i];
    for (size_t k = 0; k < rounds; k++) {
      Channel* done = nullptr;
      {
        std::lock_guard<std::mutex> g(slots_mu);
        if (slots[i]->closed()) {  // the controller ended it: a fresh one
          slots[i]->release();
          slots[i] = new Channel(0, Elem::Bool);
        }
        if (rng.chance(50)) done = slots[i];  // our own reference keeps it alive
      }
      uint64_t deadline = rng.chance(40) ? weft::now_ns() + rng.below(500000) : 0;
      bool lock = rng.chance(50);
      int64_t n = int64_t(1 + rng.below(2));
      int32_t code = lock ? mutex_lock(t, m, deadline, done) : sem_acquire(t, s, n, deadline, done);
      CHECKF(code == kOk || code == kTimeout || code == kCanceled || code == kStopped,
             "code %d", int(code));
      codes[code]++;
      if (code != kOk) continue;
      if (lock) {
        CHECK(!in_cs.exchange(true));
      } else {
        CHECK(permits.fetch_add(n) + n <= 2);
      }
      spin_for(rng.below(30000));
      if (lock) {
        CHECK(in_cs.exchange(false));
        CHECK(m->unlock());
      } else {
        permits.fetch_sub(n);
        CHECK(s->release_permits(n));
      }
    }
  });
  std::thread controller([&] {
    Rng rng(seed_for(3100));
    while (!finished.load()) {
      int i = int(rng.below(W));
      if (rng.chance(10)) {
        stop[i].store(true);  // seen by a wait that sleeps through a 20 ms slice
      } else {
        Channel* c;
        {
          std::lock_guard<std::mutex> g(slots_mu);
          c = slots[i];
          c->retain();
        }
        c->close();
        c->release();
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200 + rng.below(2000)));
    }
  });
  join_all(ts);
  finished.store(true);
  controller.join();
  for (Channel* c : slots) c->release();
  expect_sem(s, 2, 0);
  CHECK(!m->locked());
  CHECK(m->words()[weft::abi::ix(weft::abi::MutexWord::State)].load() == 0);
  std::printf("  ok %zu, timeout %zu, canceled %zu, stopped %zu\n", codes[kOk].load(),
              codes[kTimeout].load(), codes[kCanceled].load(), codes[kStopped].load());
  CHECK(codes[kOk].load() > 0);
  s->release();
  m->release();
  CHECK(Shared::live_count() == live0);
}

// Two threads each hold one mutex and lockSync the other's: the cycle is reported (to one or
// both) as Deadlock with its description, taking nothing; once a reporter lets go of its own
// mutex, the other proceeds.
TEST(block_on_lock_cycle) {
  const int64_t live0 = Shared::live_count();
  const size_t rounds = scaled(20);
  size_t both = 0;
  for (size_t round = 0; round < rounds; round++) {
    Mutex* mx[2] = {new Mutex(), new Mutex()};
    std::atomic<int> ready{0}, deadlocks{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 2; i++) {
      ts.emplace_back([&, i] {
        std::string err;
        BlockThread t;
        t.id = uint64_t(100 + i);
        t.last_error = &err;
        Mutex* mine = mx[i];
        Mutex* other = mx[1 - i];
        CHECK(mine->try_lock(int32_t(t.id)));
        ready++;
        while (ready.load() < 2) std::this_thread::yield();
        int32_t code = mutex_lock(t, other);
        if (code == kDeadlock) {
          deadlocks++;
          CHECKF(err.find("waits for") != std::string::npos, "error: %s", err.c_str());
          CHECK(mine->unlock());
        } else {
          CHECKF(code == kOk, "code %d", int(code));
          CHECK(other->unlock());
          CHECK(mine->unlock());
        }
      });
    }
    join_all(ts);
    CHECK(deadlocks.load() >= 1);
    if (deadlocks.load() == 2) both++;
    for (Mutex* m : mx) {
      CHECK(!m->locked());
      m->release();
    }
  }
  std::printf("  %zu rounds, both threads saw the cycle in %zu\n", rounds, both);
  CHECK(Shared::live_count() == live0);
}

}  // namespace
}  // namespace wt
