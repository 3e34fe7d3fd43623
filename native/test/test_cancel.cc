// test_cancel.cc — synchronous waiters giving up against a claim: a cancel that loses must
// give a rendezvous value back (select_abandon_claim) so that nothing is lost, and a blocked
// select stopped by its probe (thread teardown) consumes nothing. (Moved from test_async.cc,
// which now drives the asynchronous AsyncOp state machine.)
#include "harness.h"

namespace wt {
namespace {

// Synchronous waiters canceling against a claim: a thread registers a receive (or a send) on
// a rendezvous channel, waits a random moment and cancels. If the cancel wins, nothing moved;
// if it loses, the claim's hand-off is given back (receive) or stands (send). Exactly-once
// accounting across everything proves no value is lost or duplicated. With close_early, R is
// closed at a random moment: values given back after the close must still be received (a
// closed rendezvous channel delivers its ghosts before reporting closed).
void sync_cancel_race(bool close_early) {
  const int64_t live0 = Shared::live_count();
  const size_t n = scaled(close_early ? 5000 : 15000);
  auto* R = new Channel(0, Elem::Structured);  // a sender thread -> the cancelers
  auto* T = new Channel(0, Elem::I64);         // the cancelers -> a receiver thread
  const int C = 2;
  Ledger got(n);                        // values of R
  Ledger sent(size_t(C) * n);           // values of T
  std::atomic<size_t> lost_recv{0}, lost_send{0}, won{0};

  std::thread sender([&] {
    Rng rng(seed_for(1900));
    for (size_t i = 0; i < n; i++) {
      uint64_t v = payload(Elem::Structured, i);
      Res r = send_blocking(R, v, &rng.s, rng.chance(50));
      if (r == Res::kClosed) {
        CHECK(close_early);
        weft::drop_value(Elem::Structured, v);
        break;
      }
      CHECK(r == Res::kOk);
      got.put(i);
    }
  });
  std::thread sink([&] {
    Rng rng(seed_for(1901));
    uint64_t v;
    for (;;) {
      Res r = recv_blocking(T, &v, &rng.s, rng.chance(50));
      if (r == Res::kClosed) break;
      sent.got(v);
    }
  });
  std::vector<std::thread> cancelers;
  spawn(cancelers, C, 1950, [&](int c, Rng& rng) {
    uint64_t next_send = uint64_t(c) * n, end_send = next_send + n;
    bool r_open = true;
    while (r_open || next_send < end_send) {
      bool is_send = !r_open || (next_send < end_send && rng.chance(50));
      Op op(1);
      op[0].ch = is_send ? T : R;
      op[0].is_send = is_send;
      op[0].val = is_send ? next_send : 0;
      SelectOut o;
      Waiter* w = op.w.get();
      w->async = false;
      if (!weft::select_register(w, op.recs.data(), 1, &rng.s, &o)) {
        // Completed during registration.
        Op::check_unlinked(op.recs.data(), 1);
        if (is_send) {
          CHECK(o.res == Res::kOk);
          sent.put(next_send++);
        } else if (o.res == Res::kClosed) {
          r_open = false;
        } else {
          got.got(take_id(Elem::Structured, o.val));
        }
        progress();
        continue;
      }
      uint64_t d = rng.below(3);
      if (d == 1) spin_for(rng.below(30000));
      if (d == 2) std::this_thread::yield();
      if (w->try_cancel()) {
        won.fetch_add(1, std::memory_order_relaxed);
        weft::select_unlink(w);
        Op::check_unlinked(op.recs.data(), 1);
        CHECK(op[0].val == (is_send ? next_send : 0));  // nothing moved
        continue;
      }
      // Lost: a peer claimed us; its completion is coming.
      weft::await_completion(w);
      weft::select_unlink(w);
      CHECK(w->state.load() == 0);
      Outcome how = op[0].outcome;
      if (how == Outcome::kClosed) {
        CHECK(!is_send);
        r_open = false;
        progress();
        continue;
      }
      CHECKF(how == Outcome::kHandoff, "outcome %d", int(how));
      weft::select_abandon_claim(w);
      Op::check_unlinked(op.recs.data(), 1);
      CHECK(op[0].val == 0);
      if (is_send) {
        lost_send.fetch_add(1, std::memory_order_relaxed);
        sent.put(next_send++);  // the receiver has it: the send happened
      } else {
        lost_recv.fetch_add(1, std::memory_order_relaxed);  // the value went back
      }
      progress();
    }
  });
  if (close_early) {
    size_t at = size_t(Rng(seed_for(1960)).below(n));
    while (got.received() < at) std::this_thread::yield();
    CHECK(R->close());
    sender.join();
  } else {
    sender.join();
    // Every value left the sender; those given back are parked as ghosts or handed to the
    // other canceler. Wait for all to be received, then close.
    while (got.received() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(R->close());
  }
  join_all(cancelers);
  CHECK(T->close());
  sink.join();
  got.verify_matches_sent();
  if (!close_early) got.verify_all_received();
  sent.verify_matches_sent();
  sent.verify_all_received();
  uint64_t v;
  CHECK(R->try_recv(&v) == Res::kClosed);
  R->release();
  T->release();
  CHECK(Shared::live_count() == live0);
  std::printf("  cancels won %zu; lost on receive (given back) %zu, on send %zu; %zu of %zu "
              "values received\n",
              won.load(), lost_recv.load(), lost_send.load(), got.received(), n);
}

TEST(sync_cancel_race_give_back) { sync_cancel_race(false); }
TEST(sync_cancel_race_close_early) { sync_cancel_race(true); }

// select_block's stop probe (how a blocked *Sync call notices its worker being terminated):
// receivers whose probe starts answering "stop" return kStopped having consumed nothing; if
// a sender claimed them at that moment, the value goes back to the channel (hand-off) or the
// notification is passed on (buffered). The probe is polled once per 20 ms of sleep, so the
// senders pause now and then to let receivers fall asleep.
TEST(select_stop_probe_gives_back) {
  const int64_t live0 = Shared::live_count();
  auto* U = new Channel(0, Elem::Structured);
  auto* B = new Channel(1, Elem::I64);
  const int S = 2, R = 3;
  const size_t per = scaled(400);
  Ledger got(size_t(S) * per);
  std::atomic<bool> stop_flag[R];
  for (auto& f : stop_flag) f.store(false);
  std::atomic<size_t> stops{0};
  std::atomic<bool> senders_done{false};
  auto probe = [](void* arg) { return static_cast<std::atomic<bool>*>(arg)->load(); };
  std::vector<std::thread> senders, receivers;
  spawn(senders, S, 2100, [&](int s, Rng& rng) {
    for (size_t i = 0; i < per; i++) {
      uint64_t id = uint64_t(s) * per + i;
      bool to_u = rng.chance(50);
      Channel* ch = to_u ? U : B;
      CHECK(send_blocking(ch, payload(ch->elem(), id), &rng.s, rng.chance(50)) == Res::kOk);
      if (rng.chance(8)) std::this_thread::sleep_for(std::chrono::milliseconds(15 + rng.below(20)));
    }
  });
  spawn(receivers, R, 2200, [&](int r, Rng& rng) {
    Channel* from[2] = {U, B};
    while (from[0] || from[1]) {
      Op op(2);
      op[0].ch = from[0];
      op[1].ch = from[1];
      SelectOut out;
      WaitStatus st = op.block(&rng.s, &out, rng.chance(50), 0, +probe, &stop_flag[r]);
      if (st == WaitStatus::kStopped) {
        CHECK(out.index == -1);
        stops.fetch_add(1);
        stop_flag[r].store(false);
        progress();
        continue;
      }
      CHECK(st == WaitStatus::kDone);
      if (out.res == Res::kClosed) {
        from[out.index] = nullptr;
        continue;
      }
      got.got(take_id(op[out.index].ch->elem(), out.val));
    }
  });
  std::thread controller([&] {
    Rng rng(seed_for(2300));
    while (!senders_done.load()) {
      stop_flag[rng.below(R)].store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + rng.below(10)));
    }
  });
  join_all(senders);
  senders_done.store(true);
  controller.join();
  while (got.received() < size_t(S) * per) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(U->close());
  CHECK(B->close());
  join_all(receivers);
  got.verify_all_received();
  U->release();
  B->release();
  CHECK(Shared::live_count() == live0);
  std::printf("  %zu receives stopped by the probe\n", stops.load());
}

}  // namespace
}  // namespace wt
