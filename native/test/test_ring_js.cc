// test_ring_js.cc — the JavaScript fast path of buffered numeric channels (lib/chan/ring.ts),
// through JsRing (ring_js.h: the same memory operations the JavaScript side performs), against
// native senders and receivers on the same channel; JavaScript senders stopped at every step,
// JavaScript receivers stopped after their claim, and batch senders and receivers among them.
#include "ring_js.h"

namespace wt {
namespace {

// P producers x C consumers; even-numbered threads use the JavaScript steps first (falling back
// to the native blocking path, as chan.ts does), odd ones native calls only. With close_early
// the channel is closed while producers are still sending: a send that reports kClosed did not
// happen, and what was sent is received exactly once. Per producer, receives stay in order.
// With batches, producer and consumer 3 (mod 4) use the batch calls (try_send_many /
// try_recv_many) before the blocking path: a batch receiver frees its run with plain stores
// while counted (ring.cc free_for_claimer), next to JavaScript receivers stopped after their
// claim, whose slots senders and receivers free for them.
void mixed(uint32_t cap, int P, int C, size_t per_producer, bool close_early,
           bool batches = false) {
  const int64_t live0 = Shared::live_count();
  auto* ch = new Channel(cap, Elem::I64);
  JsRing js(ch);
  const size_t total = size_t(P) * per_producer;
  Ledger ledger(total);
  std::atomic<size_t> js_sends{0}, js_recvs{0}, sent_count{0}, js_stops{0};
  std::vector<std::thread> producers, consumers;
  spawn(producers, P, 300, [&](int p, Rng& rng) {
    weft::abi::SendRecord rec;  // this thread's send record (bind_chan.cc: thread_local)
    rec.id = Channel::new_send_id();
    for (size_t i = 0; i < per_producer; i++) {
      uint64_t id = uint64_t(p) * per_producer + i;
      if (batches && p % 4 == 3 && rng.chance(2)) {
        // A run of the next ids in one call; what it did not take goes on one by one below.
        uint64_t run[24];
        size_t n = std::min<size_t>(1 + rng.below(24), per_producer - i);
        for (size_t j = 0; j < n; j++) run[j] = id + j, ledger.put(id + j);
        Res r;
        size_t k = ch->try_send_many(run, n, &r);
        for (size_t j = k; j < n; j++) ledger.sent[id + j].fetch_sub(1, std::memory_order_relaxed);
        if (k > 0) {
          sent_count.fetch_add(k, std::memory_order_relaxed);
          progress();
          i += k - 1;
          continue;
        }
      }
      ledger.put(id);  // taken back below if the channel turns out closed
      if (p % 2 == 0) {
        // Now and then this JavaScript sender is stopped at some step (Worker.terminate()),
        // and what the ring header buffer's finalizer does then is run on this thread, a
        // little later: the value counts as sent if the position was claimed (finish_send
        // publishes it); else a new thread (a new send id) sends the same value again.
        for (;;) {
          auto stop = JsRing::Stop::kNever;
          if (rng.chance(2)) stop = JsRing::Stop(1 + rng.below(5));
          bool stopped = false;
          if (!js.try_send(id, &rec, stop, &stopped)) break;
          if (!stopped) {
            js_sends.fetch_add(1, std::memory_order_relaxed);
            sent_count.fetch_add(1, std::memory_order_relaxed);
            progress();
            goto next;
          }
          js_stops.fetch_add(1, std::memory_order_relaxed);
          if (js.end_stopped_sender(rng, stop, &rec)) {
            sent_count.fetch_add(1, std::memory_order_relaxed);
            goto next;
          }
        }
      }
      {
        Res r = send_blocking(ch, id, &rng.s, rng.chance(50), 0, p % 2 == 1);
        if (r == Res::kClosed) {
          CHECK(close_early);
          ledger.sent[id].fetch_sub(1, std::memory_order_relaxed);
          return;
        }
        CHECK(r == Res::kOk);
        sent_count.fetch_add(1, std::memory_order_relaxed);
      }
    next:;
    }
  });
  std::thread closer;
  if (close_early) {
    closer = std::thread([&] {
      // Close after about a third of the values went in, while everyone is busy.
      while (sent_count.load(std::memory_order_relaxed) < total / 3) std::this_thread::yield();
      CHECK(ch->close());
    });
  }
  spawn(consumers, C, 400, [&](int c, Rng& rng) {
    std::vector<int64_t> last(size_t(P), -1);
    auto take = [&](uint64_t v) {
      ledger.got(v);
      size_t p = size_t(v / per_producer);
      CHECKF(int64_t(v) > last[p], "FIFO violated: producer %zu id %" PRIu64 " after %" PRId64, p,
             v, last[p]);
      last[p] = int64_t(v);
    };
    for (;;) {
      uint64_t v = 0;
      if (batches && c % 4 == 3) {
        uint64_t run[32];
        Res r;
        size_t k = ch->try_recv_many(run, 1 + rng.below(32), &r);
        for (size_t j = 0; j < k; j++) take(run[j]);
        if (k > 0) {
          progress();
          continue;
        }
      }
      // Now and then a JavaScript receiver is stopped right after its claim (it keeps the
      // value it read; the slot stays unfreed until a sender or receiver meets it).
      if (c % 2 == 0 && js.try_recv(&v, rng.chance(3))) {
        js_recvs.fetch_add(1, std::memory_order_relaxed);
        progress();
      } else {
        Res r = recv_blocking(ch, &v, &rng.s, rng.chance(50), 0, c % 2 == 1);
        if (r == Res::kClosed) break;
        CHECK(r == Res::kOk);
      }
      take(v);
    }
    uint64_t v;
    CHECK(!js.try_recv(&v));  // closed and drained: the JavaScript steps find nothing either
  });
  join_all(producers);
  if (closer.joinable()) closer.join();
  else CHECK(ch->close());
  join_all(consumers);
  ledger.verify_matches_sent();
  weft::abi::SendRecord rec;
  rec.id = Channel::new_send_id();
  CHECK(!js.try_send(1, &rec));  // closed: the JavaScript steps leave it to native code
  ch->release();
  CHECK(Shared::live_count() == live0);
  std::printf("  cap=%u: %zu sent, %zu by the JS steps (%zu stopped), %zu received by them\n",
              cap, sent_count.load(), js_sends.load(), js_stops.load(), js_recvs.load());
}

TEST(ring_js_mixed_cap1024) { mixed(1024, 4, 4, scaled(60000), false); }
TEST(ring_js_mixed_cap2) { mixed(2, 4, 4, scaled(20000), false); }
// Batch senders and receivers among the JavaScript steps (stopped receivers included) and
// single native calls; a small ring, so that runs wrap and meet unfreed slots often.
TEST(ring_js_mixed_batches) {
  mixed(1024, 4, 4, scaled(40000), false, true);
  mixed(7, 4, 4, scaled(20000), false, true);
  mixed(64, 4, 4, scaled(20000), true, true);
}
TEST(ring_js_close_mid_stream) {
  for (int round = 0; round < 4; round++) mixed(round % 2 ? 3 : 64, 4, 4, scaled(20000), true);
}

// Positions wrap modulo 2^32: start a ring just below the wrap (as if 2^32 operations had
// passed) and cycle it across, mixing the JavaScript steps, native single and batch calls.
TEST(ring_js_wraps_at_2_pow_32) {
  for (uint32_t cap : {1u, 3u, 8u, 1000u}) {
    auto* ch = new Channel(cap, Elem::I64);
    RingHeader* w = ch->ring_header();
    RingSlot* s = ch->ring_slots();
    // A state the ring reaches after 2^32 - (a few laps) operations: head = tail = the start
    // of a lap near the top, every slot free for that lap.
    uint32_t lap = ~(w->one_lap - 1) - 2 * w->one_lap;  // three laps below the wrap
    w->head.store(lap);
    w->tail.store(lap);
    for (uint32_t i = 0; i < cap; i++) s[i].stamp.store(lap + i);
    JsRing js(ch);
    weft::abi::SendRecord rec;
    rec.id = Channel::new_send_id();
    Rng rng(seed_for(cap + 7));
    uint64_t next_in = 0, next_out = 0;
    for (int step = 0; step < 20000; step++) {
      size_t len = size_t(next_in - next_out);
      CHECKF(ch->length() == len, "cap %u: length %zu, expected %zu", cap, ch->length(), len);
      int how = int(rng.below(4));
      if (rng.chance(50)) {
        bool ok;
        if (how == 0) ok = js.try_send(next_in, &rec);
        else if (how == 1) ok = ch->try_send(next_in) == Res::kOk;
        else {
          uint64_t vals[2] = {next_in, next_in + 1};
          Res r;
          size_t k = ch->try_send_many(vals, len + 1 < cap ? 2 : 1, &r);
          ok = k > 0;
          if (k == 2) next_in++;
        }
        CHECK(ok == (len < cap));
        if (ok) next_in++;
      } else {
        uint64_t v = ~0ull;
        bool ok;
        if (how == 0) ok = js.try_recv(&v);
        else if (how == 1) ok = ch->try_recv(&v) == Res::kOk;
        else {
          uint64_t vals[3];
          Res r;
          size_t k = ch->try_recv_many(vals, 3, &r);
          ok = k > 0;
          for (size_t j = 0; j + 1 < k; j++) CHECK(vals[j] == next_out++);
          if (k > 0) v = vals[k - 1];
        }
        CHECK(ok == (len > 0));
        if (ok) CHECKF(v == next_out++, "cap %u: got %" PRIu64, cap, v);
      }
    }
    ch->close();
    uint64_t v;
    while (next_out < next_in) {
      CHECK(js.try_recv(&v));
      CHECK(v == next_out++);
    }
    CHECK(!js.try_recv(&v));
    CHECK(ch->try_recv(&v) == Res::kClosed);
    ch->release();
  }
}

}  // namespace
}  // namespace wt
