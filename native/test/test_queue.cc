// test_queue.cc — the buffered channel: lock-free ring, waiter notification, close, batches,
// ownership of structured payloads.
#include "harness.h"

namespace wt {
namespace {

// P producers x C consumers over one buffered channel. Every id is sent once; each consumer
// records what it gets; per producer, a consumer must see increasing ids (the ring is FIFO).
// Producers finish, the channel is closed, consumers drain it and then see it closed.
void mpmc(uint32_t cap, Elem elem, int P, int C, size_t per_producer, bool batch) {
  const int64_t live0 = Shared::live_count();
  auto* ch = new Channel(cap, elem);
  // A structured payload also carries a reference to `extra`, to check refs in flight.
  auto* extra = elem == Elem::Structured ? new Channel(1, Elem::F64) : nullptr;
  const size_t total = size_t(P) * per_producer;
  Ledger ledger(total);
  std::atomic<size_t> blocked_sends{0}, blocked_recvs{0};

  std::vector<std::thread> producers, consumers;
  spawn(producers, P, 100, [&](int p, Rng& rng) {
    size_t i = 0;
    while (i < per_producer) {
      uint64_t id = uint64_t(p) * per_producer + i;
      if (batch && rng.chance(50)) {
        uint64_t vals[37];
        size_t k = std::min<size_t>(1 + rng.below(37), per_producer - i);
        for (size_t j = 0; j < k; j++) vals[j] = id + j;
        Res r;
        size_t done = ch->try_send_many(vals, k, &r);
        CHECK(done <= k);
        if (done > 0) {
          i += done;
          progress();
          continue;
        }
        CHECK(r == Res::kWouldBlock);
      }
      uint64_t v = payload(elem, id, extra && id % 3 == 0 ? extra : nullptr);
      bool spin = rng.chance(50);
      Res r = ch->try_send(v);
      if (r == Res::kWouldBlock) {
        blocked_sends.fetch_add(1, std::memory_order_relaxed);
        r = send_blocking(ch, v, &rng.s, spin, 0, false);
      }
      CHECK(r == Res::kOk);
      i++;
    }
  });
  spawn(consumers, C, 200, [&](int, Rng& rng) {
    std::vector<int64_t> last(size_t(P), -1);
    auto seen = [&](uint64_t id) {
      ledger.got(id);
      size_t p = size_t(id / per_producer);
      CHECKF(int64_t(id) > last[p], "FIFO violated: producer %zu id %" PRIu64 " after %" PRId64,
             p, id, last[p]);
      last[p] = int64_t(id);
    };
    for (;;) {
      if (batch && rng.chance(50)) {
        uint64_t buf[29];
        Res r;
        size_t k = ch->try_recv_many(buf, 1 + rng.below(29), &r);
        for (size_t j = 0; j < k; j++) seen(buf[j]);
        if (k > 0) {
          progress();
          continue;
        }
        if (r == Res::kClosed) break;
      }
      uint64_t v = 0;
      Res r = ch->try_recv(&v);
      if (r == Res::kWouldBlock) {
        blocked_recvs.fetch_add(1, std::memory_order_relaxed);
        r = recv_blocking(ch, &v, &rng.s, rng.chance(50), 0, false);
      }
      if (r == Res::kClosed) break;
      CHECK(r == Res::kOk);
      seen(take_id(elem, v));
    }
    // Closed and drained: stays so.
    uint64_t v = 0;
    CHECK(ch->try_recv(&v) == Res::kClosed);
  });
  join_all(producers);
  CHECK(ch->close());
  CHECK(!ch->close());
  join_all(consumers);
  ledger.verify_all_received();
  CHECK(ch->length() == 0);
  CHECK(ch->closed());
  uint64_t v = payload(elem, 0);
  CHECK(ch->try_send(v) == Res::kClosed);
  weft::drop_value(elem, v);
  ch->release();
  if (extra) {
    CHECK(extra->refcount() == 1);  // every message that referenced it is gone
    extra->release();
  }
  CHECK(Shared::live_count() == live0);
  std::printf("  cap=%u elem=%d: %zu values, %zu blocked sends, %zu blocked recvs\n", cap,
              int(elem), total, blocked_sends.load(), blocked_recvs.load());
}

TEST(queue_mpmc_cap8) { mpmc(8, Elem::I64, 4, 4, scaled(40000), false); }
TEST(queue_mpmc_cap1024) { mpmc(1024, Elem::F64, 4, 4, scaled(80000), false); }
TEST(queue_mpmc_cap1) { mpmc(1, Elem::I64, 4, 4, scaled(10000), false); }
TEST(queue_mpmc_structured) { mpmc(8, Elem::Structured, 4, 4, scaled(15000), false); }
TEST(queue_mpmc_batch) {
  mpmc(8, Elem::I64, 4, 4, scaled(20000), true);
  mpmc(100, Elem::I64, 3, 3, scaled(40000), true);
}

// Wrap-around and length(): a single thread cycles the ring through many laps at every fill
// level and checks length() against a model.
TEST(queue_ring_laps_single_thread) {
  for (uint32_t cap : {1u, 2u, 3u, 7u, 8u, 9u}) {
    auto* ch = new Channel(cap, Elem::I64);
    uint64_t next_in = 0, next_out = 0;
    Rng rng(seed_for(cap));
    for (int step = 0; step < 20000; step++) {
      size_t len = size_t(next_in - next_out);
      CHECKF(ch->length() == len, "cap %u: length %zu, expected %zu", cap, ch->length(), len);
      if (rng.chance(50)) {
        Res r = ch->try_send(next_in);
        if (len == cap) {
          CHECK(r == Res::kWouldBlock);
        } else {
          CHECK(r == Res::kOk);
          next_in++;
        }
      } else {
        uint64_t v = ~0ull;
        Res r = ch->try_recv(&v);
        if (len == 0) {
          CHECK(r == Res::kWouldBlock);
        } else {
          CHECK(r == Res::kOk);
          CHECKF(v == next_out, "got %" PRIu64 " expected %" PRIu64, v, next_out);
          next_out++;
        }
      }
    }
    // Close with values inside: they stay receivable, then closed.
    size_t len = size_t(next_in - next_out);
    CHECK(ch->close());
    CHECK(ch->length() == len);
    uint64_t v;
    CHECK(ch->try_send(1) == Res::kClosed);
    while (next_out < next_in) {
      CHECK(ch->try_recv(&v) == Res::kOk);
      CHECK(v == next_out++);
    }
    CHECK(ch->try_recv(&v) == Res::kClosed);
    ch->release();
  }
}

// A channel destroyed with structured payloads still buffered (or parked as ghosts) frees
// them, and the references they carry (LeakSanitizer checks the memory, live_count the refs).
TEST(queue_destroy_frees_payloads) {
  const int64_t live0 = Shared::live_count();
  for (int round = 0; round < 200; round++) {
    auto* target = new Channel(0, Elem::F64);
    auto* b = new Channel(1 + uint32_t(round % 5), Elem::Structured);
    auto* u = new Channel(0, Elem::Structured);
    for (uint32_t i = 0; i < b->capacity(); i++)
      CHECK(b->try_send(make_msg(i, target, i)) == Res::kOk);
    // Ghosts: values given back to an unbuffered channel with no receiver waiting.
    for (int i = 0; i < round % 4; i++) u->give_back(make_msg(i, target, 3));
    if (round % 2) {
      b->close();
      u->close();
    }
    // A ghost survives close and is received before the closed state.
    if (round % 4 >= 2) {
      uint64_t v = 0;
      CHECK(u->try_recv(&v) == Res::kOk);
      CHECK(msg_id(v) == 0 || msg_id(v) == 1 || msg_id(v) == 2);
      weft::drop_value(Elem::Structured, v);
    }
    b->release();
    u->release();
    CHECK(target->refcount() == 1);
    target->release();
  }
  CHECK(Shared::live_count() == live0);
}

}  // namespace
}  // namespace wt
