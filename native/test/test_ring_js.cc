// test_ring_js.cc — the JavaScript fast path of buffered numeric channels (lib/chan/ring.ts),
// driven through the same memory operations the JavaScript side performs, against native
// senders and receivers on the same channel.
//
// JsRing below is ring.ts step for step: every Atomics call becomes a seq_cst operation on the
// same word of the shared layout (abi.h: RingHeader, RingSlot), the value a plain access in
// between, `Atomics.load(waiting) !== 0` then `chanNotify` becomes notify_receivers() /
// notify_senders(). A false / "nothing" answer hands the operation to the native blocking path,
// exactly as lib/chan/chan.ts does. If ring.ts changes, change this mirror with it.
#include "harness.h"

namespace wt {
namespace {

using weft::abi::RingHeader;
using weft::abi::RingSlot;

constexpr auto SC = std::memory_order_seq_cst;
constexpr int kTries = 8;  // ring.ts TRIES

struct JsRing {
  Channel* ch;
  RingHeader* w;
  RingSlot* s;
  std::atomic<uint32_t>* o;  // owner words (chanRing()[2]: mapping them allocates them)
  uint32_t cap, mark, one_lap, idx_mask, lap_mask;
  explicit JsRing(Channel* c)
      : ch(c), w(c->ring_header()), s(c->ring_slots()), o(c->ring_owners()), cap(w->capacity), mark(w->mark_bit),
        one_lap(w->one_lap), idx_mask(mark - 1), lap_mask(~(one_lap - 1)) {}

  // Atomics.compareExchange(s, owner, 0, id) === 0
  bool take_owner(uint32_t idx, uint32_t id) {
    uint32_t zero = 0;
    return o[idx].compare_exchange_strong(zero, id, SC, SC);
  }

  // Where a stopped sender stops (Worker.terminate() between two steps of trySend).
  enum class Stop { kNever, kAfterOwner, kAfterClaim, kAfterValue, kAfterStamp, kAfterLoss };

  // What a stopped sender's thread runs as its environment ends (send_record.cc), a little
  // later; then `rec` becomes a fresh thread's record. True if the stopped send counts as
  // sent: its position was claimed, and finish_send published the recorded value.
  bool end_stopped_sender(Rng& rng, Stop stop, weft::abi::SendRecord* rec) {
    for (int k = int(rng.below(3)); k > 0; k--) std::this_thread::yield();
    ch->finish_send(*rec);
    ch->notify_receivers();
    ch->notify_senders();
    *rec = weft::abi::SendRecord{};
    rec->id = Channel::new_send_id();
    return stop != Stop::kAfterOwner && stop != Stop::kAfterLoss;
  }

  // ring.ts trySend of a structured value whose `len` encoded bytes fit the slot's inline block:
  // the bytes go into the block, the slot value says (len << 1) | 1.
  // The send record is written as ring.ts does (the bytes copied into its block); `stop` as
  // for try_send below.
  bool try_send_inline(const uint8_t* bytes, uint32_t len, weft::abi::SendRecord* rec,
                       Stop stop = Stop::kNever, bool* stopped = nullptr) {
    uint8_t* blocks = ch->ring_inline();
    rec->serial = w->serial;
    std::memcpy(rec->block, bytes, len);
    rec->val = (uint64_t(len) << 1) | 1;
    uint32_t tail = w->tail.load(SC);
    for (int i = 0; i < kTries; i++) {
      if (tail & mark) return false;
      uint32_t idx = tail & idx_mask;
      uint32_t stamp = s[idx].stamp.load(SC);
      if (stamp == tail) {
        uint32_t next = idx + 1 < cap ? tail + 1 : (tail & lap_mask) + one_lap;
        rec->pos = tail;
        if (!take_owner(idx, rec->id)) {
          tail = w->tail.load(SC);
          continue;
        }
        if (stop == Stop::kAfterOwner) return *stopped = true;
        uint32_t seen = tail;
        if (w->tail.compare_exchange_strong(seen, next, SC, SC)) {
          if (stop == Stop::kAfterClaim) return *stopped = true;
          write_block(blocks + size_t(idx) * weft::abi::kRingInlineBytes, bytes, len);
          s[idx].val.store((uint64_t(len) << 1) | 1, std::memory_order_relaxed);
          if (stop == Stop::kAfterValue) return *stopped = true;
          s[idx].stamp.store(tail + 1, SC);
          if (stop == Stop::kAfterStamp) return *stopped = true;
          o[idx].store(0, SC);
          if (w->recv_waiting.load(SC) != 0) ch->notify_receivers();
          return true;
        }
        if (stop == Stop::kAfterLoss) return *stopped = true;
        o[idx].store(0, SC);
        tail = seen;
      } else if (stamp + one_lap == tail + 1) {
        return false;
      } else {
        tail = w->tail.load(SC);
      }
    }
    return false;
  }

  // ring.ts tryRecv on a structured ring: a native message (bit 0 clear) is left to native
  // code; an inline value's bytes are copied out BEFORE the claim, and the slot is freed with
  // a CAS. With `die_after_claim`, the thread "is stopped" right after a successful claim
  // (Worker.terminate()): it keeps the value it read, and never frees the slot.
  bool try_recv_inline(std::vector<uint8_t>* out, bool die_after_claim = false) {
    const uint8_t* blocks = ch->ring_inline();
    uint32_t head = w->head.load(SC);
    for (int i = 0; i < kTries; i++) {
      uint32_t idx = head & idx_mask;
      uint32_t stamp = s[idx].stamp.load(SC);
      if (stamp == head + 1) {
        uint64_t v = s[idx].val.load(SC);  // Atomics.load of the low word
        if ((v & 1) == 0) return false;
        read_block(blocks + size_t(idx) * weft::abi::kRingInlineBytes, size_t(v >> 1), out);
        uint32_t seen = head;
        uint32_t next = idx + 1 < cap ? head + 1 : (head & lap_mask) + one_lap;
        if (w->head.compare_exchange_strong(seen, next, SC, SC)) {
          if (die_after_claim) return true;
          uint32_t want = head + 1;
          s[idx].stamp.compare_exchange_strong(want, head + one_lap, SC, SC);
          if (w->send_waiting.load(SC) != 0) ch->notify_senders();
          return true;
        }
        head = seen;
      } else if (stamp == head || stamp + one_lap == head + 1) {
        return false;
      } else {
        head = w->head.load(SC);
      }
    }
    return false;
  }

  // TypedArray.set into / out of a block, as relaxed 64-bit words (the C++ side's view of the
  // block; a copy taken before a failed claim may overlap a write and is discarded).
  static void write_block(uint8_t* block, const uint8_t* bytes, size_t len) {
    auto* words = reinterpret_cast<std::atomic<uint64_t>*>(block);
    for (size_t i = 0; i * 8 < len; i++) {
      uint64_t x = 0;
      std::memcpy(&x, bytes + i * 8, std::min<size_t>(8, len - i * 8));
      words[i].store(x, std::memory_order_relaxed);
    }
  }
  static void read_block(const uint8_t* block, size_t len, std::vector<uint8_t>* out) {
    auto* words = reinterpret_cast<const std::atomic<uint64_t>*>(block);
    out->resize(len);
    for (size_t i = 0; i * 8 < len; i++) {
      uint64_t x = words[i].load(std::memory_order_relaxed);
      std::memcpy(out->data() + i * 8, &x, std::min<size_t>(8, len - i * 8));
    }
  }

  // ring.ts trySend of a numeric value by the thread whose send record is `rec` (rec->id its
  // send id). With `stop`, the thread "is stopped" at that point of the attempt that gets that
  // far, and the call returns true with *stopped set: the caller then runs what the ring
  // header buffer's finalizer runs on that thread (finish_send), as the test decides when.
  bool try_send(uint64_t v, weft::abi::SendRecord* rec, Stop stop = Stop::kNever,
                bool* stopped = nullptr) {
    rec->serial = w->serial;  // the record: plain stores, this thread's own
    rec->val = v;
    uint32_t tail = w->tail.load(SC);
    for (int i = 0; i < kTries; i++) {
      if (tail & mark) return false;
      uint32_t idx = tail & idx_mask;
      uint32_t stamp = s[idx].stamp.load(SC);
      if (stamp == tail) {
        uint32_t next = idx + 1 < cap ? tail + 1 : (tail & lap_mask) + one_lap;
        rec->pos = tail;
        if (!take_owner(idx, rec->id)) {
          tail = w->tail.load(SC);
          continue;
        }
        if (stop == Stop::kAfterOwner) return *stopped = true;
        uint32_t seen = tail;
        // Atomics.compareExchange returns what it saw; C++ writes it back into `seen`.
        if (w->tail.compare_exchange_strong(seen, next, SC, SC)) {
          if (stop == Stop::kAfterClaim) return *stopped = true;
          s[idx].val.store(v, std::memory_order_relaxed);
          if (stop == Stop::kAfterValue) return *stopped = true;
          s[idx].stamp.store(tail + 1, SC);
          if (stop == Stop::kAfterStamp) return *stopped = true;
          o[idx].store(0, SC);
          if (w->recv_waiting.load(SC) != 0) ch->notify_receivers();
          return true;
        }
        if (stop == Stop::kAfterLoss) return *stopped = true;
        o[idx].store(0, SC);
        tail = seen;
      } else if (stamp + one_lap == tail + 1) {
        return false;
      } else {
        tail = w->tail.load(SC);
      }
    }
    return false;
  }

  // ring.ts tryRecv: the value is read BEFORE the claim, the slot freed with a CAS. With
  // `die_after_claim` the thread "is stopped" right after its claim (see try_recv_inline).
  bool try_recv(uint64_t* out, bool die_after_claim = false) {
    uint32_t head = w->head.load(SC);
    for (int i = 0; i < kTries; i++) {
      uint32_t idx = head & idx_mask;
      uint32_t stamp = s[idx].stamp.load(SC);
      if (stamp == head + 1) {
        uint64_t v = s[idx].val.load(std::memory_order_relaxed);
        uint32_t next = idx + 1 < cap ? head + 1 : (head & lap_mask) + one_lap;
        uint32_t seen = head;
        if (w->head.compare_exchange_strong(seen, next, SC, SC)) {
          *out = v;
          if (die_after_claim) return true;
          uint32_t want = head + 1;
          s[idx].stamp.compare_exchange_strong(want, head + one_lap, SC, SC);
          if (w->send_waiting.load(SC) != 0) ch->notify_senders();
          return true;
        }
        head = seen;
      } else if (stamp == head || stamp + one_lap == head + 1) {
        return false;
      } else {
        head = w->head.load(SC);
      }
    }
    return false;
  }
};

// P producers x C consumers; even-numbered threads use the JavaScript steps first (falling back
// to the native blocking path, as chan.ts does), odd ones native calls only. With close_early
// the channel is closed while producers are still sending: a send that reports kClosed did not
// happen, and what was sent is received exactly once. Per producer, receives stay in order.
void mixed(uint32_t cap, int P, int C, size_t per_producer, bool close_early) {
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
    for (;;) {
      uint64_t v = 0;
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
      ledger.got(v);
      size_t p = size_t(v / per_producer);
      CHECKF(int64_t(v) > last[p], "FIFO violated: producer %zu id %" PRIu64 " after %" PRId64, p,
             v, last[p]);
      last[p] = int64_t(v);
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

// Structured ring: producers queue small values inline through the JavaScript steps (an id in
// the first 8 bytes, then filler up to a length that varies) or as native messages; consumers
// take them through the JavaScript steps (inline only) or natively (ring_pop turns an inline
// value into a message). Exactly once, FIFO per producer, every byte intact, no message leaked.
void structured_mixed(uint32_t cap, size_t per_producer, bool close_early) {
  const int64_t live0 = Shared::live_count();
  constexpr int P = 4, C = 4;
  auto* ch = new Channel(cap, Elem::Structured);
  CHECK(ch->ring_inline() != nullptr);
  JsRing js(ch);
  const size_t total = size_t(P) * per_producer;
  Ledger ledger(total);
  std::atomic<size_t> sent_count{0}, inline_sent{0}, inline_recv{0};
  auto fill = [](uint64_t id, std::vector<uint8_t>* b) {
    size_t len = 8 + size_t(id % (weft::abi::kRingInlineBytes - 7));  // 8 .. 128 bytes
    b->resize(len);
    std::memcpy(b->data(), &id, 8);
    for (size_t k = 8; k < len; k++) (*b)[k] = uint8_t(id * 31 + k);
  };
  auto check = [&](const uint8_t* p, size_t len) -> uint64_t {
    uint64_t id;
    CHECK(len >= 8);
    std::memcpy(&id, p, 8);
    std::vector<uint8_t> want;
    fill(id, &want);
    CHECKF(want.size() == len && std::memcmp(want.data(), p, len) == 0, "id %" PRIu64 ": bytes differ", id);
    return id;
  };
  std::vector<std::thread> producers, consumers;
  spawn(producers, P, 500, [&](int p, Rng& rng) {
    std::vector<uint8_t> b;
    weft::abi::SendRecord rec;
    rec.id = Channel::new_send_id();
    for (size_t i = 0; i < per_producer; i++) {
      uint64_t id = uint64_t(p) * per_producer + i;
      fill(id, &b);
      ledger.put(id);
      bool sent = false;
      // As in mixed(): now and then the JavaScript sender is stopped at some step, and its
      // cleanup (finish_send) publishes the recorded bytes if the position was claimed.
      while (rng.chance(60)) {
        auto stop = rng.chance(3) ? JsRing::Stop(1 + rng.below(5)) : JsRing::Stop::kNever;
        bool stopped = false;
        if (!js.try_send_inline(b.data(), uint32_t(b.size()), &rec, stop, &stopped)) break;
        if (!stopped) {
          sent = true;
          break;
        }
        if (js.end_stopped_sender(rng, stop, &rec)) {
          sent = true;
          break;
        }
      }
      if (sent) {
        inline_sent.fetch_add(1, std::memory_order_relaxed);
        sent_count.fetch_add(1, std::memory_order_relaxed);
        progress();
        continue;
      }
      auto* m = new Message();
      m->bytes = b;
      uint64_t v = weft::to_bits(m);
      Res r = send_blocking(ch, v, &rng.s, rng.chance(50));
      if (r == Res::kClosed) {
        CHECK(close_early);
        weft::drop_value(Elem::Structured, v);
        ledger.sent[id].fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      CHECK(r == Res::kOk);
      sent_count.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::thread closer;
  if (close_early) {
    closer = std::thread([&] {
      while (sent_count.load(std::memory_order_relaxed) < total / 3) std::this_thread::yield();
      CHECK(ch->close());
    });
  }
  spawn(consumers, C, 600, [&](int, Rng& rng) {
    std::vector<int64_t> last(size_t(P), -1);
    std::vector<uint8_t> b;
    for (;;) {
      uint64_t id;
      if (rng.chance(50) && js.try_recv_inline(&b, rng.chance(3))) {
        inline_recv.fetch_add(1, std::memory_order_relaxed);
        progress();
        id = check(b.data(), b.size());
      } else {
        uint64_t v = 0;
        Res r = recv_blocking(ch, &v, &rng.s, rng.chance(50));
        if (r == Res::kClosed) break;
        CHECK(r == Res::kOk);
        Message* m = weft::to_message(v);
        CHECK((v & 1) == 0);  // native receivers only ever see messages
        id = check(m->bytes.data(), m->bytes.size());
        delete m;
      }
      ledger.got(id);
      size_t p = size_t(id / per_producer);
      CHECKF(int64_t(id) > last[p], "FIFO violated: producer %zu id %" PRIu64, p, id);
      last[p] = int64_t(id);
    }
  });
  join_all(producers);
  if (closer.joinable()) closer.join();
  else CHECK(ch->close());
  join_all(consumers);
  ledger.verify_matches_sent();
  ch->release();
  CHECK(Shared::live_count() == live0);
  std::printf("  cap=%u: %zu sent, %zu inline, %zu taken by the JS steps\n", cap, sent_count.load(),
              inline_sent.load(), inline_recv.load());
}

TEST(ring_js_structured_inline) {
  structured_mixed(64, scaled(15000), false);
  structured_mixed(2, scaled(8000), false);
}
TEST(ring_js_structured_close_mid_stream) {
  for (int round = 0; round < 3; round++) structured_mixed(round % 2 ? 3 : 32, scaled(10000), true);
}

// A channel destroyed with inline values still queued frees nothing it should not (they are
// bytes in its blocks, turned into messages and dropped by the destructor's drain).
TEST(ring_js_structured_destroy_with_inline) {
  const int64_t live0 = Shared::live_count();
  for (int round = 0; round < 100; round++) {
    auto* ch = new Channel(4, Elem::Structured);
    JsRing js(ch);
    weft::abi::SendRecord rec;
    rec.id = Channel::new_send_id();
    uint8_t bytes[40] = {1, 2, 3};
    for (int i = 0; i < round % 5; i++) CHECK(js.try_send_inline(bytes, 1 + i * 9, &rec));
    if (round % 3 == 0) {
      uint64_t v = weft::to_bits(new Message());
      Res r = ch->try_send(v);
      CHECK(r == (round % 5 == 4 ? Res::kWouldBlock : Res::kOk));
      if (r != Res::kOk) weft::drop_value(Elem::Structured, v);
    }
    ch->release();
  }
  CHECK(Shared::live_count() == live0);
}

TEST(ring_js_mixed_cap1024) { mixed(1024, 4, 4, scaled(60000), false); }
TEST(ring_js_mixed_cap2) { mixed(2, 4, 4, scaled(20000), false); }
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
