// test_select.cc — multi-case select across threads (exactly-once, no record left queued),
// and deadlines racing with peers.
#include "harness.h"

namespace wt {
namespace {

// Value ids: thread t's n-th value is t * kPerThread + n.
constexpr uint64_t kPerThread = 1u << 22;

struct World {
  // Two rendezvous channels and two buffered ones, numeric and structured; `quit` is closed to
  // stop everyone (every blocking select includes a receive on it).
  Channel* chans[4];
  Channel* quit;
  int nthreads;
  Ledger ledger;
  std::atomic<uint64_t> ops{0};
  World(int threads)
      : chans{new Channel(0, Elem::I64), new Channel(0, Elem::Structured),
              new Channel(1, Elem::I64), new Channel(3, Elem::Structured)},
        quit(new Channel(0, Elem::I64)),
        nthreads(threads),
        ledger(size_t(threads) * kPerThread) {}
  ~World() {
    for (Channel* c : chans) c->release();
    quit->release();
  }
};

// One thread's loop. kind 0: selects of 2-4 random cases (send or receive, the same channel
// possibly twice, or a nil case) plus the quit case; kind 1: single operations (plus quit);
// kind 2: non-blocking only (select_try, try_send, try_recv), which keeps everyone live.
void actor(World& W, int t, int kind) {
  Rng rng(seed_for(800 + t));
  uint64_t next_id = uint64_t(t) * kPerThread;
  bool quit_seen = false;
  while (!quit_seen) {
    int ncases = kind == 0 ? 2 + int(rng.below(3)) : 1;
    Op op(size_t(ncases) + (kind == 2 ? 0 : 1));
    std::vector<uint64_t> ids(op.recs.size(), ~0ull);
    for (int i = 0; i < ncases; i++) {
      CaseRec& c = op[i];
      if (kind == 0 && rng.chance(5)) continue;  // nil case
      int k = int(rng.below(4));
      // Make "the same channel twice" common.
      if (i > 0 && rng.chance(30) && op[i - 1].ch != nullptr) {
        c.ch = op[i - 1].ch;
      } else {
        c.ch = W.chans[k];
      }
      c.is_send = rng.chance(50);
      if (c.is_send) {
        ids[i] = next_id++;
        c.val = payload(c.ch->elem(), ids[i]);
      }
    }
    if (kind != 2) op[ncases].ch = W.quit;
    SelectOut out;
    bool done;
    if (kind == 2) {
      done = weft::select_try(op.recs.data(), op.n(), &rng.s, &out);
      if (done) progress();
      else std::this_thread::yield();
    } else {
      WaitStatus st = op.block(&rng.s, &out, rng.chance(50));
      CHECK(st == WaitStatus::kDone);
      done = true;
    }
    if (done) {
      CHECK(out.index >= 0 && out.index < op.n());
      CaseRec& c = op[out.index];
      if (c.ch == W.quit) {
        CHECK(out.res == Res::kClosed);
        quit_seen = true;
      } else {
        CHECKF(out.res == Res::kOk, "case on an open channel returned %d", int(out.res));
        if (c.is_send) {
          CHECK(c.val == 0);  // moved into the channel / handed to the receiver
          W.ledger.put(ids[out.index]);
        } else {
          W.ledger.got(take_id(c.ch->elem(), out.val));
        }
        W.ops.fetch_add(1, std::memory_order_relaxed);
      }
    }
    // Cases not taken: their payloads are still ours.
    for (int i = 0; i < op.n(); i++) {
      CaseRec& c = op[i];
      if (c.ch == nullptr || !c.is_send || (done && i == out.index)) continue;
      CHECKF(c.val != 0 || c.ch->elem() != Elem::Structured, "unchosen send lost its payload");
      weft::drop_value(c.ch->elem(), c.val);
    }
    if (kind == 2 && W.quit->closed()) quit_seen = true;
  }
}

TEST(select_multi_exactly_once) {
  const int64_t live0 = Shared::live_count();
  size_t target = scaled(40000);
  {
    // 3 selectors, 2 single-op threads, 1 non-blocking thread.
    const int kinds[] = {0, 0, 0, 1, 1, 2};
    const int n = int(sizeof kinds / sizeof kinds[0]);
    World W(n);
    std::vector<std::thread> ts;
    for (int t = 0; t < n; t++) ts.emplace_back([&, t] { actor(W, t, kinds[t]); });
    auto t0 = std::chrono::steady_clock::now();
    while (W.ops.load() < target &&
           std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECKF(W.ops.load() >= target / 10, "too little progress: %" PRIu64 " ops",
           uint64_t(W.ops.load()));
    CHECK(W.quit->close());
    join_all(ts);
    // Whatever is still buffered was sent: drain it.
    for (int k = 2; k < 4; k++) {
      uint64_t v;
      while (W.chans[k]->try_recv(&v) == Res::kOk) W.ledger.got(take_id(W.chans[k]->elem(), v));
      CHECK(W.chans[k]->length() == 0);
    }
    W.ledger.verify_matches_sent();
    // No record of any finished select is still queued: a stale receiver would accept this
    // send (and touch freed memory), a stale sender would deliver a value.
    for (Channel* c : W.chans) {
      uint64_t v = 0;
      CHECK(c->try_recv(&v) == Res::kWouldBlock);
      uint64_t p = payload(c->elem(), 1);
      if (c->buffered()) {
        CHECK(c->try_send(p) == Res::kOk);
        CHECK(c->try_recv(&v) == Res::kOk);
        CHECK(take_id(c->elem(), v) == 1);
      } else {
        CHECK(c->try_send(p) == Res::kWouldBlock);
        weft::drop_value(c->elem(), p);
      }
      CHECK(c->close());
      CHECK(c->try_recv(&v) == Res::kClosed);
    }
    std::printf("  %" PRIu64 " completed cases\n", uint64_t(W.ops.load()));
  }
  CHECK(Shared::live_count() == live0);
}

// ---- deadlines ---------------------------------------------------------------------------

// Receivers use short deadlines that keep expiring while senders (some with deadlines too)
// push values. A timed-out operation must have moved nothing: every id whose send returned
// kOk is received exactly once, and nothing else is.
void timeout_race(uint32_t cap, Elem elem, size_t per_sender) {
  const int64_t live0 = Shared::live_count();
  auto* ch = new Channel(cap, elem);
  auto* other = new Channel(0, Elem::I64);  // never ready: widens the multi-case path
  const int S = 2, R = 3;
  Ledger ledger(S * per_sender);
  std::atomic<size_t> timeouts{0}, send_timeouts{0};
  std::vector<std::thread> senders, receivers;
  spawn(senders, S, 900, [&](int s, Rng& rng) {
    for (size_t i = 0; i < per_sender; i++) {
      uint64_t id = uint64_t(s) * per_sender + i;
      uint64_t v = payload(elem, id);
      for (;;) {
        uint64_t deadline = rng.chance(50) ? weft::now_ns() + rng.below(200000) : 0;
        Res r = send_blocking(ch, v, &rng.s, rng.chance(50), deadline, rng.chance(50));
        if (r == Res::kOk) break;
        CHECK(r == Res::kWouldBlock);
        send_timeouts.fetch_add(1, std::memory_order_relaxed);
      }
      ledger.put(id);
      if (rng.chance(10)) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  });
  spawn(receivers, R, 950, [&](int, Rng& rng) {
    for (;;) {
      uint64_t deadline = weft::now_ns() + rng.below(100000);
      Op op(rng.chance(50) ? 2 : 1);
      op[0].ch = ch;
      if (op.n() == 2) op[1].ch = other;
      SelectOut out;
      WaitStatus st = op.block(&rng.s, &out, rng.chance(50), deadline);
      if (st == WaitStatus::kTimeout) {
        CHECK(out.index == -1);
        timeouts.fetch_add(1, std::memory_order_relaxed);
        progress();
        continue;
      }
      CHECK(st == WaitStatus::kDone);
      CHECK(out.index == 0);
      if (out.res == Res::kClosed) break;
      ledger.got(take_id(elem, out.val));
    }
  });
  join_all(senders);
  CHECK(ch->close());
  join_all(receivers);
  ledger.verify_matches_sent();
  ledger.verify_all_received();
  ch->release();
  other->release();
  CHECK(Shared::live_count() == live0);
  std::printf("  cap=%u: %zu receive timeouts, %zu send timeouts\n", cap, timeouts.load(),
              send_timeouts.load());
}

TEST(select_timeouts_rendezvous) { timeout_race(0, Elem::Structured, scaled(10000)); }
TEST(select_timeouts_buffered) { timeout_race(2, Elem::I64, scaled(15000)); }

// A deadline on an idle channel expires no earlier than asked, and not absurdly late.
TEST(select_timeout_accuracy) {
  auto* ch = new Channel(0, Elem::I64);
  Rng rng(seed_for(990));
  for (int i = 0; i < 20; i++) {
    uint64_t wait = 1000000 + rng.below(4000000);  // 1-5 ms
    uint64_t t0 = weft::now_ns();
    Op op(1);
    op[0].ch = ch;
    op[0].is_send = rng.chance(50);
    op[0].val = 5;
    SelectOut out;
    CHECK(op.block(&rng.s, &out, rng.chance(50), t0 + wait) == WaitStatus::kTimeout);
    uint64_t took = weft::now_ns() - t0;
    CHECKF(took >= wait, "returned after %" PRIu64 " ns, deadline %" PRIu64, took, wait);
    CHECKF(took < wait + 2000000000ull, "returned after %" PRIu64 " ns", took);
    CHECK(op[0].val == 5);
    progress();
  }
  uint64_t v;
  CHECK(ch->try_recv(&v) == Res::kWouldBlock);
  CHECK(ch->try_send(1) == Res::kWouldBlock);
  ch->release();
}

// A lone send on a full ring prefers, while it spins, to wait for a run of free slots
// (select.cc): that must stay a preference. One slot is freed at a time (after a pause
// shorter or longer than the spin), and the blocked send must fill it before the next one
// is freed; every value arrives once, in order.
TEST(select_lone_send_takes_a_single_free_slot) {
  constexpr uint32_t kCap = 64;  // a run of 8
  auto* ch = new Channel(kCap, Elem::I64);
  for (uint64_t i = 0; i < kCap; i++) CHECK(ch->try_send(i + 1) == Res::kOk);
  constexpr uint64_t kMore = 40;
  std::thread sender([&] {
    Rng rng(seed_for(991));
    for (uint64_t i = kCap; i < kCap + kMore; i++) CHECK(send_blocking(ch, i + 1, &rng.s, true) == Res::kOk);
  });
  Rng rng(seed_for(992));
  for (uint64_t i = 0; i < kCap + kMore; i++) {
    // 0-10 us: within the sender's 3 us spin, and past it.
    uint64_t until = weft::now_ns() + rng.below(10000);
    while (weft::now_ns() < until) {
    }
    uint64_t v = 0;
    CHECK(recv_blocking(ch, &v, &rng.s, true) == Res::kOk);
    CHECKF(v == i + 1, "got %" PRIu64 ", want %" PRIu64, v, i + 1);
    if (i < kMore) {
      // The send waiting for room takes this one slot (a run would never come).
      uint64_t deadline = weft::now_ns() + 5'000'000'000ull;
      while (ch->length() != kCap) {
        CHECKF(weft::now_ns() < deadline, "the blocked send did not take the free slot (%zu queued)",
               ch->length());
        std::this_thread::yield();
      }
    }
    progress();
  }
  sender.join();
  uint64_t v;
  CHECK(ch->try_recv(&v) == Res::kWouldBlock);
  ch->release();
}

// The mirror case: a lone receive on an empty ring lets a run of values build while they keep
// arriving (select.cc), and that too must stay a preference. Values are sent one at a time
// (after a pause shorter or longer than the spin), each only once the previous one has been
// received: the blocked receive must take each single value. Then a burst followed by a close:
// every value arrives once, in order, and then the close.
TEST(select_lone_recv_takes_a_single_value) {
  constexpr uint32_t kCap = 64;  // a run of 8
  auto* ch = new Channel(kCap, Elem::I64);
  constexpr uint64_t kSingles = 40, kBurst = 20;
  std::atomic<uint64_t> received{0};
  std::thread sender([&] {
    Rng rng(seed_for(993));
    for (uint64_t i = 0; i < kSingles; i++) {
      uint64_t until = weft::now_ns() + rng.below(10000);  // 0-10 us
      while (weft::now_ns() < until) {
      }
      CHECK(ch->try_send(i + 1) == Res::kOk);
      uint64_t deadline = weft::now_ns() + 5'000'000'000ull;
      while (received.load(std::memory_order_acquire) != i + 1) {
        CHECKF(weft::now_ns() < deadline, "the blocked receive did not take the single value %" PRIu64,
               i + 1);
        std::this_thread::yield();
      }
    }
    for (uint64_t i = kSingles; i < kSingles + kBurst; i++) CHECK(send_blocking(ch, i + 1, &rng.s, true) == Res::kOk);
    CHECK(ch->close());
  });
  Rng rng(seed_for(994));
  for (uint64_t i = 0; i < kSingles + kBurst; i++) {
    uint64_t v = 0;
    CHECK(recv_blocking(ch, &v, &rng.s, true) == Res::kOk);
    CHECKF(v == i + 1, "got %" PRIu64 ", want %" PRIu64, v, i + 1);
    received.store(i + 1, std::memory_order_release);
    progress();
  }
  uint64_t v = 0;
  CHECK(recv_blocking(ch, &v, &rng.s, true) == Res::kClosed);
  sender.join();
  ch->release();
}

// The hints a spinning lone send/receive polls (ring_peek.cc run_free_hint, published_hint) read
// slot stamps; they must agree with the ring's fill at every fill level, across lap and
// array boundaries (a run that wraps to the start of the array is in the next lap).
TEST(select_spin_hints_follow_the_stamps) {
  constexpr uint32_t kCap = 6;  // not a power of two: positions skip to the next lap at 6
  auto* ch = new Channel(kCap, Elem::I64);
  Rng rng(seed_for(995));
  uint64_t next_in = 1, next_out = 1;
  uint32_t at = ~0u;
  size_t seen = 0;
  for (int step = 0; step < 400; step++) {
    size_t q = size_t(next_in - next_out);
    for (size_t run = 1; run <= kCap; run++)
      CHECKF(ch->run_free_hint(run) == (kCap - q >= run), "step %d: %zu queued, run %zu", step, q, run);
    for (size_t upto = 0; upto <= kCap; upto++) {
      uint32_t fresh = ~0u;
      CHECKF(ch->published_hint(0, upto, &fresh) == std::min(q, upto), "step %d: %zu queued, upto %zu", step,
             q, upto);
    }
    // Counting on from the last step's look: on from there while the head stayed (a send),
    // from 0 once it moved (a receive: going on from the earlier count would report more
    // than is queued).
    seen = ch->published_hint(seen, kCap, &at);
    CHECKF(seen == q, "step %d: %zu queued, counted %zu", step, q, seen);
    if (q == kCap || (q > 0 && rng.below(2) == 0)) {
      uint64_t v = 0;
      CHECK(ch->try_recv(&v) == Res::kOk);
      CHECK(v == next_out++);
    } else {
      CHECK(ch->try_send(next_in++) == Res::kOk);
    }
  }
  CHECK(ch->close());
  for (size_t run = 1; run <= kCap; run++) CHECK(ch->run_free_hint(run));  // a closed ring: try
  ch->release();
}

}  // namespace
}  // namespace wt
