// test_async.cc — asynchronous waiters completed through an Inbox (the Promise path of the
// addon, with a condition variable in place of the event loop), and cancel racing a claim:
// when the cancel loses, select_abandon_claim must give a rendezvous value back so that
// nothing is lost.
#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "core/park/inbox.h"
#include "harness.h"

namespace wt {
namespace {

struct Wake {
  std::mutex mu;
  std::condition_variable cv;
  bool flag = false;
  static void fn(void* arg) {  // called by Inbox::push (under the inbox lock)
    auto* w = static_cast<Wake*>(arg);
    {
      std::lock_guard<std::mutex> g(w->mu);
      w->flag = true;
    }
    w->cv.notify_one();
  }
  void wait(uint64_t ns) {
    std::unique_lock<std::mutex> g(mu);
    cv.wait_for(g, std::chrono::nanoseconds(ns), [&] { return flag; });
    flag = false;
  }
};

// One pending asynchronous operation of the owner thread.
struct AOp : Waiter {
  std::vector<CaseRec> recs;
  std::vector<uint64_t> ids;  // send cases: the id carried by recs[i].val
  bool cancel_lost = false;
  bool sent = false;  // a send that happened (numeric payloads can be 0: val tells nothing)
};

// The owner thread of the async test: keeps up to three receive operations ({U}, {B} or
// {U, B}) and two send operations (on S) pending at once, all asynchronous, completes them
// from the inbox, and cancels random pending ones.
struct Owner {
  Channel* U;  // unbuffered, structured: peers send, owner and a sync thread receive
  Channel* B;  // buffered (2), numeric: same
  Channel* S;   // unbuffered, structured: the owner sends, a sync thread receives
  Channel* S2;  // buffered (1), numeric: same (a canceled send may lose to a notification)
  Ledger* in;
  Ledger* out;
  size_t n_out;
  Wake wake;
  std::shared_ptr<weft::Inbox> inbox = std::make_shared<weft::Inbox>(&Wake::fn, &wake);
  Rng rng{seed_for(1500)};
  std::vector<AOp*> pending;
  std::vector<uint64_t> to_send;  // ids not sent yet (a canceled send puts its id back)
  bool closed_u = false, closed_b = false;
  size_t recv_pending = 0, send_pending = 0;
  size_t cancels_won = 0, cancels_lost = 0, gave_back = 0, forwarded = 0, immediate = 0;

  void result(AOp* op, const SelectOut& o) {
    CHECK(o.index >= 0 && o.index < int32_t(op->recs.size()));
    CaseRec& c = op->recs[size_t(o.index)];
    if (o.res == Res::kClosed) {
      CHECK(!c.is_send);
      if (c.ch == U) closed_u = true;
      if (c.ch == B) closed_b = true;
    } else if (c.is_send) {
      CHECK(c.val == 0);
      op->sent = true;
      out->put(op->ids[size_t(o.index)]);
    } else {
      in->got(take_id(c.ch->elem(), o.val));
    }
    progress();
  }

  void free_op(AOp* op) {
    Op::check_unlinked(op->recs.data(), int32_t(op->recs.size()));
    for (size_t i = 0; i < op->recs.size(); i++) {
      CaseRec& c = op->recs[i];
      if (c.is_send && !op->sent) {  // never sent: the id goes back to the queue
        weft::drop_value(c.ch->elem(), c.val);
        to_send.push_back(op->ids[i]);
      }
    }
    bool is_send = !op->recs.empty() && op->recs[0].is_send;
    (is_send ? send_pending : recv_pending)--;
    delete op;
  }

  void start(AOp* op) {
    op->async = true;
    op->inbox = inbox;
    (op->recs[0].is_send ? send_pending : recv_pending)++;
    SelectOut o;
    if (!weft::select_register(op, op->recs.data(), int32_t(op->recs.size()), &rng.s, &o)) {
      immediate++;
      result(op, o);
      free_op(op);
      return;
    }
    pending.push_back(op);
  }

  void process(AOp* op) {
    if (op->cancel_lost) {
      // The owner gave up but a peer claimed first. Whatever was handed over must not be
      // lost: a received value goes back to the channel, a taken send did happen.
      weft::select_unlink(op);
      int32_t k = op->state.load(std::memory_order_acquire);
      CHECK(k >= 0 && k < int32_t(op->recs.size()));
      CaseRec& c = op->recs[size_t(k)];
      Outcome how = c.outcome;
      bool was_send = c.is_send;
      if (how == Outcome::kClosed && c.ch == U) closed_u = true;
      if (how == Outcome::kClosed && c.ch == B) closed_b = true;
      if (how == Outcome::kHandoff && !was_send) gave_back++;
      if (how == Outcome::kNotify) forwarded++;
      weft::select_abandon_claim(op);
      if (how == Outcome::kHandoff) {
        CHECK(c.val == 0);
        if (was_send) {
          op->sent = true;
          out->put(op->ids[size_t(k)]);
        }
      }
      free_op(op);
      return;
    }
    SelectOut o;
    if (weft::select_finish(op, &rng.s, &o)) {
      result(op, o);
      free_op(op);
      return;
    }
    // A notification whose retry failed: wait again.
    if (!weft::select_register(op, op->recs.data(), int32_t(op->recs.size()), &rng.s, &o)) {
      result(op, o);
      free_op(op);
      return;
    }
    pending.push_back(op);
  }

  void run() {
    for (size_t i = 0; i < n_out; i++) to_send.push_back(i);
    for (;;) {
      // Top up the pending operations.
      while (recv_pending < 3 && !(closed_u && closed_b)) {
        auto* op = new AOp();
        // Shape 0: {U}, 1: {B}, 2: {U, B}; channels already seen closed are left out.
        uint64_t shape = rng.below(3);
        bool want_u = !closed_u && (shape != 1 || closed_b);
        bool want_b = !closed_b && (shape != 0 || closed_u);
        for (Channel* ch : {want_u ? U : nullptr, want_b ? B : nullptr}) {
          if (ch == nullptr) continue;
          op->recs.push_back(CaseRec{});
          op->recs.back().ch = ch;
        }
        CHECK(!op->recs.empty());
        start(op);
      }
      while (send_pending < 2 && !to_send.empty()) {
        auto* op = new AOp();
        op->recs.resize(1);
        op->recs[0].ch = rng.chance(50) ? S : S2;
        op->recs[0].is_send = true;
        op->ids.push_back(to_send.back());
        to_send.pop_back();
        op->recs[0].val = payload(op->recs[0].ch->elem(), op->ids[0]);
        start(op);
      }
      if (closed_u && closed_b && to_send.empty() && recv_pending == 0 && send_pending == 0)
        break;
      // Cancel a random pending operation now and then.
      if (!pending.empty() && rng.chance(30)) {
        if (rng.chance(50)) spin_for(rng.below(20000));
        size_t k = rng.below(pending.size());
        AOp* op = pending[k];
        pending[k] = pending.back();
        pending.pop_back();
        if (op->try_cancel()) {
          cancels_won++;
          weft::select_unlink(op);
          free_op(op);
        } else {
          cancels_lost++;
          op->cancel_lost = true;  // its completion is in (or on its way to) the inbox
        }
      }
      wake.wait(rng.chance(50) ? 0 : 200000);
      for (Waiter* w : inbox->drain()) {
        auto* op = static_cast<AOp*>(w);
        auto it = std::find(pending.begin(), pending.end(), op);
        if (it != pending.end()) {
          pending.erase(it);
        } else {
          CHECK(op->cancel_lost);
        }
        process(op);
      }
    }
    CHECK(pending.empty());
    CHECK(inbox->drain().empty());
    inbox->close();
  }
};

TEST(async_inbox_with_cancels) {
  const int64_t live0 = Shared::live_count();
  const size_t per_producer = scaled(8000), n_out = scaled(10000);
  auto* U = new Channel(0, Elem::Structured);
  auto* B = new Channel(2, Elem::I64);
  auto* S = new Channel(0, Elem::Structured);
  auto* S2 = new Channel(1, Elem::I64);
  const int P = 2;
  const size_t total_in = size_t(P) * 2 * per_producer;  // ids [0, P*per) on U, the rest on B
  Ledger in(total_in), out(n_out);
  Owner owner;
  owner.U = U;
  owner.B = B;
  owner.S = S;
  owner.S2 = S2;
  owner.in = &in;
  owner.out = &out;
  owner.n_out = n_out;

  std::vector<std::thread> producers, receivers;
  for (int p = 0; p < P; p++) {
    producers.emplace_back([&, p] {
      Rng rng(seed_for(1600 + p));
      for (size_t i = 0; i < per_producer; i++) {
        uint64_t idu = uint64_t(p) * per_producer + i;
        uint64_t idb = uint64_t(P) * per_producer + idu;
        CHECK(send_blocking(U, payload(Elem::Structured, idu), &rng.s, rng.chance(50)) ==
              Res::kOk);
        CHECK(send_blocking(B, idb, &rng.s, rng.chance(50)) == Res::kOk);
      }
    });
  }
  // A synchronous receiver competing with the owner on U and B.
  receivers.emplace_back([&] {
    Rng rng(seed_for(1700));
    Channel* from[2] = {U, B};
    while (from[0] || from[1]) {
      Op op(2);
      op[0].ch = from[0];
      op[1].ch = from[1];
      SelectOut o;
      CHECK(op.block(&rng.s, &o, rng.chance(50)) == WaitStatus::kDone);
      if (o.res == Res::kClosed) {
        from[o.index] = nullptr;
        continue;
      }
      in.got(take_id(op[o.index].ch->elem(), o.val));
      if (rng.chance(5)) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  // The receiver of the owner's sends.
  std::thread sink([&] {
    Rng rng(seed_for(1800));
    Channel* from[2] = {S, S2};
    while (from[0] || from[1]) {
      Op op(2);
      op[0].ch = from[0];
      op[1].ch = from[1];
      SelectOut o;
      CHECK(op.block(&rng.s, &o, rng.chance(50)) == WaitStatus::kDone);
      if (o.res == Res::kClosed) {
        from[o.index] = nullptr;
        continue;
      }
      out.got(take_id(op[o.index].ch->elem(), o.val));
      if (rng.chance(5)) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  std::thread owner_thread([&] { owner.run(); });

  join_all(producers);
  // Values handed to a canceled receive were given back; wait until all of them arrived.
  while (in.received() < total_in) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(U->close());
  CHECK(B->close());
  join_all(receivers);
  owner_thread.join();
  CHECK(S->close());
  CHECK(S2->close());
  sink.join();

  in.verify_all_received();
  out.verify_matches_sent();
  out.verify_all_received();
  std::printf(
      "  cancels won %zu, lost %zu (values given back %zu, notifications passed on %zu), "
      "completed at registration %zu\n",
      owner.cancels_won, owner.cancels_lost, owner.gave_back, owner.forwarded, owner.immediate);
  U->release();
  B->release();
  S->release();
  S2->release();
  CHECK(Shared::live_count() == live0);
}

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
  for (int c = 0; c < C; c++) {
    cancelers.emplace_back([&, c] {
      Rng rng(seed_for(1950 + c));
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
  }
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
  for (int s = 0; s < S; s++) {
    senders.emplace_back([&, s] {
      Rng rng(seed_for(2100 + s));
      for (size_t i = 0; i < per; i++) {
        uint64_t id = uint64_t(s) * per + i;
        bool to_u = rng.chance(50);
        Channel* ch = to_u ? U : B;
        CHECK(send_blocking(ch, payload(ch->elem(), id), &rng.s, rng.chance(50)) == Res::kOk);
        if (rng.chance(8)) std::this_thread::sleep_for(std::chrono::milliseconds(15 + rng.below(20)));
      }
    });
  }
  for (int r = 0; r < R; r++) {
    receivers.emplace_back([&, r] {
      Rng rng(seed_for(2200 + r));
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
  }
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
