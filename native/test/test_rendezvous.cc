// test_rendezvous.cc — unbuffered channels (hand-off under the queue lock), ping-pong wake-ups,
// and close waking blocked senders and receivers.
#include "harness.h"

namespace wt {
namespace {

// P senders x C receivers on one unbuffered channel, all blocking through select_block with
// one case (no try first, so every operation goes through register/park/claim).
void rendezvous_mpmc(Elem elem, int P, int C, size_t per_producer) {
  const int64_t live0 = Shared::live_count();
  auto* ch = new Channel(0, elem);
  const size_t total = size_t(P) * per_producer;
  Ledger ledger(total);
  std::vector<std::thread> senders, receivers;
  spawn(senders, P, 300, [&](int p, Rng& rng) {
    for (size_t i = 0; i < per_producer; i++) {
      uint64_t id = uint64_t(p) * per_producer + i;
      uint64_t v = payload(elem, id);
      Op op(1);
      op[0].ch = ch;
      op[0].is_send = true;
      op[0].val = v;
      SelectOut out;
      CHECK(op.block(&rng.s, &out, rng.chance(50)) == WaitStatus::kDone);
      CHECK(out.index == 0 && out.res == Res::kOk);
      CHECK(op[0].val == 0);
    }
  });
  spawn(receivers, C, 400, [&](int, Rng& rng) {
    std::vector<int64_t> last(size_t(P), -1);
    for (;;) {
      Op op(1);
      op[0].ch = ch;
      SelectOut out;
      CHECK(op.block(&rng.s, &out, rng.chance(50)) == WaitStatus::kDone);
      CHECK(out.index == 0);
      if (out.res == Res::kClosed) break;
      CHECK(out.res == Res::kOk);
      uint64_t id = take_id(elem, out.val);
      ledger.got(id);
      size_t p = size_t(id / per_producer);
      CHECK(int64_t(id) > last[p]);
      last[p] = int64_t(id);
    }
  });
  join_all(senders);
  // Every send returned, so every value has been handed over (its receiver may still be
  // waking up): closing now must not take any of them away.
  CHECK(ch->close());
  join_all(receivers);
  ledger.verify_all_received();
  uint64_t v = 0;
  CHECK(ch->try_recv(&v) == Res::kClosed);
  CHECK(ch->try_send(1) == Res::kClosed);
  ch->release();
  CHECK(Shared::live_count() == live0);
}

TEST(rendezvous_mpmc_4x4) { rendezvous_mpmc(Elem::I64, 4, 4, scaled(15000)); }
TEST(rendezvous_mpmc_structured) { rendezvous_mpmc(Elem::Structured, 4, 4, scaled(8000)); }

// Two threads bounce a counter: A sends n on `ab`, B receives it and sends n + 1 on `ba`.
// Both sides block every round, so any lost wake-up is a hang (the watchdog reports it).
// For buffered channels (capacity 1) the sending side uses the lock-free try_send, which
// races with the receiver registering under the lock.
void ping_pong(uint32_t cap, Elem elem, size_t rounds, bool spin) {
  auto* ab = new Channel(cap, elem);
  auto* ba = new Channel(cap, elem);
  auto side = [&](Channel* in, Channel* out, bool starts, uint64_t salt) {
    Rng rng(seed_for(salt));
    uint64_t expect = starts ? 1 : 0;
    if (starts) {
      CHECK(send_blocking(out, payload(elem, 0), &rng.s, spin) == Res::kOk);
    }
    for (size_t i = 0; i < rounds; i++) {
      uint64_t v = 0;
      CHECK(recv_blocking(in, &v, &rng.s, spin, 0, rng.chance(50)) == Res::kOk);
      uint64_t got = take_id(elem, v);
      CHECKF(got == expect, "ping-pong: got %" PRIu64 ", expected %" PRIu64, got, expect);
      if (starts && i + 1 == rounds) break;
      CHECK(send_blocking(out, payload(elem, got + 1), &rng.s, spin) == Res::kOk);
      expect = got + 2;
    }
  };
  std::thread a([&] { side(ba, ab, true, 501); });
  std::thread b([&] { side(ab, ba, false, 502); });
  a.join();
  b.join();
  CHECK(ab->length() == 0 && ba->length() == 0);
  ab->release();
  ba->release();
}

TEST(rendezvous_ping_pong) {
  ping_pong(0, Elem::I64, scaled(30000), true);
  ping_pong(0, Elem::Structured, scaled(8000), false);
}
TEST(buffered_ping_pong_parked) {
  // spin=false: straight to register + park, maximizing the register/notify race.
  ping_pong(1, Elem::I64, scaled(30000), false);
  ping_pong(1, Elem::Structured, scaled(8000), true);
}

// ---- close while blocked -----------------------------------------------------------------

// Threads block on `ch` (receivers, or senders with payloads); after a random delay the
// channel is closed. Everyone must return: receivers with kClosed, senders with kClosed and
// their payload still theirs. Buffered values present at close remain receivable.
void close_round(Rng& rng, uint32_t cap, Elem elem, bool senders, int nthreads) {
  auto* ch = new Channel(cap, elem);
  if (senders && cap > 0) {
    for (uint32_t i = 0; i < cap; i++) CHECK(ch->try_send(payload(elem, 1000 + i)) == Res::kOk);
  }
  std::atomic<int> started{0}, closed_seen{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < nthreads; t++) {
    ts.emplace_back([&, t, seed = rng.next()] {
      Rng r(seed);
      started.fetch_add(1);
      Op op(1);
      op[0].ch = ch;
      op[0].is_send = senders;
      uint64_t v = senders ? payload(elem, uint64_t(t)) : 0;
      op[0].val = v;
      SelectOut out;
      CHECK(op.block(&r.s, &out, r.chance(30)) == WaitStatus::kDone);
      CHECK(out.index == 0);
      CHECKF(out.res == Res::kClosed, "blocked op completed with %d before close", int(out.res));
      if (senders) {
        CHECK(op[0].val == v);  // not consumed
        weft::drop_value(elem, v);
      }
      closed_seen.fetch_add(1);
    });
  }
  while (started.load() < nthreads) std::this_thread::yield();
  // Sometimes close while they are still registering, sometimes once they are asleep.
  uint64_t d = rng.below(4);
  if (d == 1) spin_for(rng.below(20000));
  if (d >= 2) std::this_thread::sleep_for(std::chrono::microseconds(rng.below(2000)));
  CHECK(ch->close());
  join_all(ts);
  CHECK(closed_seen.load() == nthreads);
  if (senders && cap > 0) {
    for (uint32_t i = 0; i < cap; i++) {
      uint64_t v = 0;
      CHECK(ch->try_recv(&v) == Res::kOk);
      CHECK(take_id(elem, v) == 1000 + i);
    }
  }
  uint64_t v = 0;
  CHECK(ch->try_recv(&v) == Res::kClosed);
  ch->release();
}

TEST(close_wakes_blocked) {
  const int64_t live0 = Shared::live_count();
  Rng rng(seed_for(600));
  size_t rounds = scaled(300);
  for (size_t i = 0; i < rounds; i++) {
    Elem elem = rng.chance(50) ? Elem::Structured : Elem::I64;
    int n = 1 + int(rng.below(4));
    close_round(rng, 0, elem, false, n);  // unbuffered receivers
    close_round(rng, 0, elem, true, n);   // unbuffered senders
    close_round(rng, 4, elem, false, n);  // receivers on an empty buffer
    close_round(rng, 1 + uint32_t(rng.below(3)), elem, true, n);  // senders on a full buffer
  }
  CHECK(Shared::live_count() == live0);
}

// A multi-case select blocked on several channels returns kClosed for the case whose channel
// was closed (and nothing else moved).
TEST(close_wakes_select) {
  const int64_t live0 = Shared::live_count();
  Rng rng(seed_for(700));
  size_t rounds = scaled(600);
  for (size_t round = 0; round < rounds; round++) {
    Channel* chans[3] = {new Channel(0, Elem::Structured), new Channel(2, Elem::I64),
                         new Channel(0, Elem::I64)};
    // chans[1] is full, so a send case on it blocks.
    CHECK(chans[1]->try_send(7) == Res::kOk && chans[1]->try_send(8) == Res::kOk);
    int victim = int(rng.below(3));
    std::thread t([&, seed = rng.next()] {
      Rng r(seed);
      Op op(4);
      op[0].ch = chans[0];  // recv
      op[1].ch = chans[1];  // send (full)
      op[1].is_send = true;
      op[1].val = 9;
      op[2].ch = chans[2];  // send
      op[2].is_send = true;
      op[2].val = 10;
      op[3].ch = chans[2];  // recv on the same channel
      SelectOut out;
      CHECK(op.block(&r.s, &out, r.chance(30)) == WaitStatus::kDone);
      CHECK(out.res == Res::kClosed);
      if (victim == 2) {
        CHECK(out.index == 2 || out.index == 3);
      } else if (victim == 1) {
        CHECK(out.index == 1);
      } else {
        CHECK(out.index == 0);
      }
      CHECK(op[1].val == 9 && op[2].val == 10);
    });
    if (rng.chance(50)) std::this_thread::sleep_for(std::chrono::microseconds(rng.below(1500)));
    CHECK(chans[victim]->close());
    t.join();
    uint64_t v = 0;
    CHECK(chans[1]->try_recv(&v) == Res::kOk && v == 7);
    CHECK(chans[1]->try_recv(&v) == Res::kOk && v == 8);
    for (Channel* c : chans) c->release();
  }
  CHECK(Shared::live_count() == live0);
}

}  // namespace
}  // namespace wt

namespace wt {
namespace {

// Close in the middle of traffic: senders stop at their first kClosed (keeping that payload),
// receivers drain. Every send that returned kOk is received exactly once, whatever the
// interleaving of the close with lock-free pushes, hand-offs and parked waiters.
TEST(close_during_traffic) {
  const int64_t live0 = Shared::live_count();
  Rng rng(seed_for(2000));
  const size_t rounds = scaled(150), per = 400;
  const int P = 2, C = 2;
  size_t moved = 0;
  for (size_t round = 0; round < rounds; round++) {
    const uint32_t caps[] = {0, 1, 4};
    uint32_t cap = caps[rng.below(3)];
    Elem elem = rng.chance(50) ? Elem::Structured : Elem::I64;
    auto* ch = new Channel(cap, elem);
    auto* idle = new Channel(0, Elem::I64);  // never ready: a second case for some selects
    Ledger ledger(size_t(P) * per);
    std::vector<std::thread> ts;
    for (int p = 0; p < P; p++) {
      ts.emplace_back([&, p, seed = rng.next()] {
        Rng r(seed);
        for (size_t i = 0; i < per; i++) {
          uint64_t id = uint64_t(p) * per + i;
          uint64_t v = payload(elem, id);
          Res res = send_blocking(ch, v, &r.s, r.chance(50), 0, r.chance(50));
          if (res == Res::kClosed) {
            weft::drop_value(elem, v);
            break;
          }
          CHECK(res == Res::kOk);
          ledger.put(id);
        }
      });
    }
    for (int c = 0; c < C; c++) {
      ts.emplace_back([&, seed = rng.next()] {
        Rng r(seed);
        for (;;) {
          Op op(r.chance(50) ? 2 : 1);
          op[0].ch = ch;
          if (op.n() == 2) op[1].ch = idle;
          SelectOut out;
          CHECK(op.block(&r.s, &out, r.chance(50)) == WaitStatus::kDone);
          CHECK(out.index == 0);
          if (out.res == Res::kClosed) break;
          ledger.got(take_id(elem, out.val));
        }
      });
    }
    // Close once a random share of the values went through (sometimes right away).
    size_t close_at = rng.chance(10) ? 0 : size_t(rng.below(P * per * 9 / 10));
    while (ledger.received() < close_at) std::this_thread::yield();
    if (rng.chance(50)) spin_for(rng.below(50000));
    CHECK(ch->close());
    join_all(ts);
    ledger.verify_matches_sent();
    moved += ledger.received();
    uint64_t v;
    CHECK(ch->try_recv(&v) == Res::kClosed);
    ch->release();
    idle->release();
  }
  CHECK(Shared::live_count() == live0);
  std::printf("  %zu rounds, %zu of %zu values sent before the close\n", rounds, moved,
              rounds * P * per);
}

}  // namespace
}  // namespace wt
