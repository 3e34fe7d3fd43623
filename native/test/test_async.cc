// test_async.cc — the asynchronous (Promise) operation state machine, core/park/async_op.h,
// on channels: the very functions the addon's ThreadCtx calls (async_bind_cases,
// async_register, async_cancel, async_process, async_withdraw, async_drain_abandoned,
// async_free), with a condition variable in place of the event loop. Several owner threads
// race completions against cancels (some withdrawing a received value), re-registrations
// after notifications, and their own teardown (a worker exiting with ops pending), while
// producers, a synchronous receiver and a sink run alongside. Exactly-once accounting proves
// no value is lost or duplicated; Shared::live_count and LeakSanitizer prove nothing leaks.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "core/abi.h"
#include "core/park/async_op.h"
#include "core/park/inbox.h"
#include "harness.h"

namespace wt {
namespace {

using weft::AsyncOp;
using weft::AsyncResult;

// One owner thread: keeps up to three receive ops ({U}, {B} or {U, B}) and two send ops (on S
// or S2) pending, completes them from its inbox, cancels random pending ones, and — when
// stop_after > 0 — tears down after that many completions with ops still pending.
struct Owner {
  Channel* U;   // unbuffered, structured: producers send, owners and a sync thread receive
  Channel* B;   // buffered (2), numeric: same
  Channel* S;   // unbuffered, structured: owners send, the sink receives
  Channel* S2;  // buffered (1), numeric: same (a canceled send may lose to a notification)
  Ledger* in;
  Ledger* out;
  uint64_t send_begin = 0, send_end = 0;  // the ids of `out` this owner sends
  size_t stop_after = 0;
  Rng rng{0};
  Wake wake;
  std::shared_ptr<weft::Inbox> inbox = std::make_shared<weft::Inbox>(&Wake::fn, &wake);
  std::vector<AsyncOp*> pending;               // registered, not canceled
  std::unordered_set<AsyncOp*> cancel_lost;    // canceled, but a claim won: in flight
  std::unordered_map<AsyncOp*, uint64_t> send_id;  // send ops: the id they carry
  std::vector<uint64_t> to_send;  // ids not sent yet (a canceled send puts its id back)
  bool closed_u = false, closed_b = false, torn_down = false;
  size_t recv_pending = 0, send_pending = 0, completions = 0;
  size_t cancels_won = 0, cancels_lost = 0, requeued = 0, immediate = 0, abandoned = 0;

  // Settles op with r (what ThreadCtx::settle does with a Promise), then frees it.
  void finish(AsyncOp* op, const AsyncResult& r) {
    CHECK(!r.pending);
    bool is_send = op->recs[0].is_send;
    bool sent = false;
    if (r.code == kOk) {
      CHECK(r.out.index >= 0 && r.out.index < int32_t(op->recs.size()));
      CaseRec& c = op->recs[size_t(r.out.index)];
      if (c.is_send) {
        CHECK(c.val == 0);  // the payload moved into the channel
        sent = true;
        out->put(send_id.at(op));
      } else {
        in->got(take_id(c.ch->elem(), r.out.val));
      }
    } else if (r.code == kClosed) {
      CHECK(!is_send && r.out.index >= 0);
      Channel* ch = op->recs[size_t(r.out.index)].ch;
      if (ch == U) closed_u = true;
      if (ch == B) closed_b = true;
    } else {
      CHECKF(r.code == kCanceled, "code %d", int(r.code));
    }
    if (is_send) {
      auto it = send_id.find(op);
      if (!sent) to_send.push_back(it->second);  // async_free drops the unsent payload
      send_id.erase(it);
      send_pending--;
    } else {
      recv_pending--;
    }
    completions++;
    progress();
    Op::check_unlinked(op->recs.data(), int32_t(op->recs.size()));
    weft::async_free(op);
  }

  void start(AsyncOp* op) {
    weft::async_bind_cases(op, inbox);
    (op->recs[0].is_send ? send_pending : recv_pending)++;
    AsyncResult r;
    if (!weft::async_register(op, &rng.s, &r)) {
      immediate++;
      finish(op, r);
      return;
    }
    pending.push_back(op);
  }

  void top_up() {
    while (recv_pending < 3 && !(closed_u && closed_b)) {
      auto* op = new AsyncOp();
      // Shape 0: {U}, 1: {B}, 2: {U, B}; channels already seen closed are left out.
      uint64_t shape = rng.below(3);
      bool want_u = !closed_u && (shape != 1 || closed_b);
      bool want_b = !closed_b && (shape != 0 || closed_u);
      for (Channel* ch : {want_u ? U : nullptr, want_b ? B : nullptr}) {
        if (ch == nullptr) continue;
        op->recs.push_back(CaseRec{});
        op->recs.back().ch = ch;
        op->recs.back().index = int32_t(op->recs.size() - 1);
      }
      op->is_select = op->recs.size() > 1;
      start(op);
    }
    while (send_pending < 2 && !to_send.empty()) {
      auto* op = new AsyncOp();
      op->recs.resize(1);
      op->recs[0].ch = rng.chance(50) ? S : S2;
      op->recs[0].is_send = true;
      uint64_t id = to_send.back();
      to_send.pop_back();
      op->recs[0].val = payload(op->recs[0].ch->elem(), id);
      send_id[op] = id;
      start(op);
    }
  }

  // ThreadCtx::cancel: a won cancel settles now; a lost one is reported by async_process.
  void cancel_one() {
    if (rng.chance(50)) spin_for(rng.below(20000));
    size_t k = rng.below(pending.size());
    AsyncOp* op = pending[k];
    pending[k] = pending.back();
    pending.pop_back();
    if (weft::async_cancel(op, kCanceled, rng.chance(50))) {
      cancels_won++;
      AsyncResult r;
      r.code = kCanceled;
      finish(op, r);
    } else {
      cancels_lost++;
      CHECK(op->cancel_code == kCanceled);
      cancel_lost.insert(op);
    }
  }

  // ThreadCtx::on_async: every delivered op is processed once.
  void drain() {
    for (Waiter* w : inbox->drain()) {
      auto* op = static_cast<AsyncOp*>(w);
      auto it = std::find(pending.begin(), pending.end(), op);
      if (it != pending.end()) pending.erase(it);
      else CHECK(cancel_lost.erase(op) == 1);  // delivered once, and only if it was pending
      AsyncResult r = weft::async_process(op, &rng.s);
      if (r.pending) {
        CHECK(op->cancel_code == 0);  // a canceled op is never queued again
        requeued++;
        pending.push_back(op);
        continue;
      }
      finish(op, r);
    }
  }

  // ThreadCtx::cleanup: withdraw what can be withdrawn, wait for the rest and give back
  // what it carries. The ids of sends abandoned in flight may or may not have been received.
  void tear_down() {
    torn_down = true;
    size_t claimed = cancel_lost.size();
    for (AsyncOp* op : pending) {
      if (weft::async_withdraw(op)) {
        AsyncResult r;
        r.code = kCanceled;
        finish(op, r);
      } else {
        claimed++;
      }
    }
    pending.clear();
    cancel_lost.clear();
    abandoned = claimed;
    weft::async_drain_abandoned(inbox.get(), claimed);
    CHECK(inbox->drain().empty());
    inbox->close();
    send_id.clear();  // those ops were freed by async_drain_abandoned
  }

  void run() {
    for (uint64_t i = send_begin; i < send_end; i++) to_send.push_back(i);
    for (;;) {
      top_up();
      if (closed_u && closed_b && to_send.empty() && recv_pending == 0 && send_pending == 0)
        break;
      if (!pending.empty() && rng.chance(30)) cancel_one();
      wake.wait(rng.chance(50) ? 0 : 200000);
      if (stop_after != 0 && completions >= stop_after) {
        // The thread exits with completions already delivered but not processed (as when
        // a worker is terminated between a wake-up and its event loop turn).
        wake.wait(1000000);
        tear_down();
        return;
      }
      drain();
    }
    CHECK(pending.empty() && cancel_lost.empty() && send_id.empty());
    CHECK(inbox->drain().empty());
    inbox->close();
  }
};

TEST(async_op_channels_cancel_withdraw_teardown) {
  const int64_t live0 = Shared::live_count();
  const size_t per_producer = scaled(6000), per_owner = scaled(4000);
  const int P = 2, O = 3;
  auto* U = new Channel(0, Elem::Structured);
  auto* B = new Channel(2, Elem::I64);
  auto* S = new Channel(0, Elem::Structured);
  auto* S2 = new Channel(1, Elem::I64);
  const size_t total_in = size_t(P) * 2 * per_producer;  // ids [0, P*per) on U, the rest on B
  Ledger in(total_in), out(size_t(O) * per_owner);
  std::vector<std::unique_ptr<Owner>> owners;
  for (int o = 0; o < O; o++) {
    auto ow = std::make_unique<Owner>();
    ow->U = U;
    ow->B = B;
    ow->S = S;
    ow->S2 = S2;
    ow->in = &in;
    ow->out = &out;
    ow->send_begin = uint64_t(o) * per_owner;
    ow->send_end = ow->send_begin + per_owner;
    ow->rng = Rng(seed_for(1500 + uint64_t(o)));
    // Owner 0 tears down early, owner 1 late; owner 2 runs until the channels close.
    if (o < 2) ow->stop_after = 200 + ow->rng.below(o == 0 ? 500 : scaled(6000));
    owners.push_back(std::move(ow));
  }

  std::vector<std::thread> threads;
  spawn(threads, P, 1600, [&](int p, Rng& rng) {
    for (size_t i = 0; i < per_producer; i++) {
      uint64_t idu = uint64_t(p) * per_producer + i;
      uint64_t idb = uint64_t(P) * per_producer + idu;
      CHECK(send_blocking(U, payload(Elem::Structured, idu), &rng.s, rng.chance(50)) ==
            Res::kOk);
      CHECK(send_blocking(B, idb, &rng.s, rng.chance(50)) == Res::kOk);
    }
  });
  // Receives from a pair of channels until both close, into a ledger.
  auto receiver = [&](Channel* a, Channel* b, Ledger* l, uint64_t salt) {
    Rng rng(seed_for(salt));
    Channel* from[2] = {a, b};
    while (from[0] || from[1]) {
      Op op(2);
      op[0].ch = from[0];
      op[1].ch = from[1];
      op[1].index = 1;
      SelectOut o;
      CHECK(op.block(&rng.s, &o, rng.chance(50)) == WaitStatus::kDone);
      if (o.res == Res::kClosed) {
        from[o.index] = nullptr;
        continue;
      }
      l->got(take_id(op[size_t(o.index)].ch->elem(), o.val));
      if (rng.chance(5)) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  };
  std::thread sync_receiver(receiver, U, B, &in, 1700);  // competes with the owners
  std::thread sink(receiver, S, S2, &out, 1800);
  std::vector<std::thread> owner_threads;
  for (auto& ow : owners) owner_threads.emplace_back([o = ow.get()] { o->run(); });

  join_all(threads);
  // Values handed to a canceled, withdrawn or abandoned receive went back to their channel;
  // wait until every value arrived somewhere.
  while (in.received() < total_in) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(U->close());
  CHECK(B->close());
  sync_receiver.join();
  join_all(owner_threads);
  CHECK(S->close());
  CHECK(S2->close());
  sink.join();

  in.verify_all_received();
  // Every completed send was received exactly once (Ledger::got rejects a second receipt).
  // A send abandoned in flight by a torn-down owner may have been received without being
  // reported; every id of an owner that ran to the end was sent.
  for (size_t i = 0; i < out.n; i++) {
    uint32_t s = out.sent[i].load(), r = out.recv[i].load();
    CHECKF(s == 0 || r == 1, "id %zu sent but received %u times", i, r);
    if (!owners[i / per_owner]->torn_down) CHECKF(s == 1, "id %zu never sent", i);
  }
  for (auto& ow : owners) {
    std::printf("  owner: %zu completions, cancels won %zu lost %zu, re-registered %zu, "
                "immediate %zu, abandoned at teardown %zu%s\n",
                ow->completions, ow->cancels_won, ow->cancels_lost, ow->requeued,
                ow->immediate, ow->abandoned, ow->torn_down ? " (torn down)" : "");
  }
  U->release();
  B->release();
  S->release();
  S2->release();
  CHECK(Shared::live_count() == live0);
}

// Thread teardown with every op claimed: receives registered on a rendezvous channel, values
// handed to them by a sender (each completion pushed to the inbox, never drained), then the
// owner tears down at a random moment. Whatever was handed over goes back to the channel and
// reaches a later synchronous receive; whatever was not is withdrawn.
TEST(async_op_teardown_gives_back) {
  const int64_t live0 = Shared::live_count();
  const size_t rounds = scaled(300);
  const size_t K = 8;
  size_t abandoned = 0, withdrawn = 0;
  Rng rng(seed_for(1900));
  for (size_t round = 0; round < rounds; round++) {
    auto* U = new Channel(0, Elem::Structured);
    auto inbox = std::make_shared<weft::Inbox>([](void*) {}, nullptr);
    std::vector<AsyncOp*> ops;
    for (size_t i = 0; i < K; i++) {
      auto* op = new AsyncOp();
      op->recs.resize(1);
      op->recs[0].ch = U;
      weft::async_bind_cases(op, inbox);
      AsyncResult r;
      CHECK(weft::async_register(op, &rng.s, &r));  // nobody sends yet: pending
      ops.push_back(op);
    }
    Ledger got(K);
    std::thread sender([&, seed = rng.next()] {
      Rng r(seed);
      for (size_t i = 0; i < K; i++)
        CHECK(send_blocking(U, payload(Elem::Structured, i), &r.s, r.chance(50)) == Res::kOk);
    });
    spin_for(rng.below(100000));
    size_t claimed = 0;
    for (AsyncOp* op : ops) {
      if (weft::async_withdraw(op)) {
        withdrawn++;
        weft::async_free(op);
      } else {
        claimed++;
      }
    }
    abandoned += claimed;
    weft::async_drain_abandoned(inbox.get(), claimed);
    inbox->close();
    for (size_t i = 0; i < K; i++) {  // every value, given back or still being sent
      uint64_t v = 0;
      CHECK(recv_blocking(U, &v, &rng.s) == Res::kOk);
      got.got(take_id(Elem::Structured, v));
    }
    sender.join();
    got.verify_all_received();
    U->release();
    progress();
  }
  std::printf("  %zu ops abandoned after a claim (values given back), %zu withdrawn\n",
              abandoned, withdrawn);
  CHECK(Shared::live_count() == live0);
}

// Inbox::push wakes its owner after releasing the inbox lock, so a wake-up may still be
// running when the owner tears down. close() must return only once every wake-up that saw the
// owner open has finished (the owner then frees what they touch: in the addon, its uv handle),
// and no wake-up may start after it. Pushers hammer an inbox whose wake-up dawdles while it
// writes to a heap object that the owner frees right after close(): ASan reports a use after
// free, and TSan a race, if close() returned early; a wake-up that starts after close() is
// counted in a flag that outlives the object.
std::atomic<bool> g_inbox_closed{false};
std::atomic<uint64_t> g_inbox_late{0};

TEST(inbox_close_waits_for_wakes_in_flight) {
  const size_t rounds = scaled(200);
  Rng rng(seed_for(2100));
  for (size_t round = 0; round < rounds; round++) {
    struct Target {
      std::atomic<uint64_t> wakes{0};
    };
    auto* target = new Target();
    auto wake = [](void* a) {
      if (g_inbox_closed.load(std::memory_order_acquire)) {
        g_inbox_late.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      auto* t = static_cast<Target*>(a);
      spin_for(2000);
      t->wakes.fetch_add(1, std::memory_order_relaxed);  // freed memory if close() returned early
    };
    g_inbox_closed.store(false, std::memory_order_release);
    auto inbox = std::make_shared<weft::Inbox>(wake, target);
    const size_t P = 3, K = 64;
    std::vector<std::unique_ptr<Waiter>> waiters;
    for (size_t i = 0; i < P * K; i++) waiters.push_back(std::make_unique<Waiter>());
    std::atomic<bool> go{false};
    std::vector<std::thread> pushers;
    for (size_t p = 0; p < P; p++) {
      pushers.emplace_back([&, p] {
        while (!go.load(std::memory_order_acquire)) weft::cpu_relax();
        for (size_t i = 0; i < K; i++) inbox->push(waiters[p * K + i].get());
      });
    }
    go.store(true, std::memory_order_release);
    spin_for(rng.below(200000));
    inbox->close();
    g_inbox_closed.store(true, std::memory_order_release);
    delete target;  // a wake-up still running after close() now touches freed memory
    for (auto& t : pushers) t.join();
    CHECK(g_inbox_late.load() == 0);  // none began after close() returned
    // Every push is still delivered to drain(), woken or not.
    CHECK(inbox->drain().size() == P * K);
  }
}

}  // namespace
}  // namespace wt
