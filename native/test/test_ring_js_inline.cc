// test_ring_js_inline.cc — structured values through the JavaScript fast path: encoded bytes in
// the slots' inline blocks (lib/chan/ring.ts), through JsRing (ring_js.h), against native
// senders and receivers of messages; JavaScript senders stopped at every step.
#include "ring_js.h"

namespace wt {
namespace {

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

}  // namespace
}  // namespace wt
