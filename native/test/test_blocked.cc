// test_blocked.cc — the blocked-operation lists (blocked.cc): each thread registers and removes
// its own entries while other threads read every list (dump()'s snapshot, the pool's sysmon,
// the lock-cycle check), and threads come and go so their lists are recycled. Checks: a
// reader sees only registered entries with their fields intact (ASan/TSan: no stale pointer,
// no race), a thread's own entries are all there while it holds them, and nothing is left
// once every thread has ended.
#include <atomic>
#include <set>

#include "core/blocked.h"
#include "harness.h"

namespace wt {
namespace {

size_t entries_of(uint64_t thread) {
  size_t n = 0;
  for (const auto& b : weft::blocked_snapshot())
    if (b.thread == thread) n++;
  return n;
}

TEST(blocked_lists_concurrent) {
  auto* obj = new Channel(0, Elem::I64);
  obj->set_name("blocked-test");
  const int kThreads = 4, kRounds = 3;
  const size_t iters = scaled(20000);
  std::atomic<bool> stop{false};
  // Readers: every entry they see names a thread of this test (ids 1000..), this object, and
  // an op string this test registered.
  std::thread reader([&] {
    while (!stop.load(std::memory_order_acquire)) {
      for (const auto& b : weft::blocked_snapshot()) {
        CHECK(b.thread >= 1000 && b.thread < 1000 + uint64_t(kThreads * kRounds));
        CHECK(b.object == "chan blocked-test");
        CHECK(b.op == "recv" || b.op == "send");
      }
      for (uint64_t t : weft::blocked_sync_threads()) CHECK(t >= 1000);
      // No lock is involved: the cycle check walks every list and finds nothing.
      CHECK(weft::find_lock_cycle(1, obj, [](Shared*) { return int32_t(0); }).empty());
    }
  });
  // Rounds of threads that exit, so later rounds reuse the lists of earlier ones.
  for (int round = 0; round < kRounds; round++) {
    std::vector<std::thread> ts;
    spawn(ts, kThreads, 1200 + uint64_t(round), [&, round](int t, Rng& rng) {
      const uint64_t me = 1000 + uint64_t(round * kThreads + t);
      weft::Blocked held[3];
      for (size_t i = 0; i < iters; i++) {
        // Up to three entries at once (a thread with several pending async ops), ended in
        // random order (removal swaps the last entry into the gap).
        int k = 1 + int(rng.below(3));
        for (int j = 0; j < k; j++) {
          held[j] = weft::Blocked{me, rng.chance(50) ? "recv" : "send", obj, 1, rng.chance(50)};
          weft::block_begin(&held[j]);
        }
        if (i % 997 == 0) CHECK(entries_of(me) == size_t(k));
        int first = int(rng.below(uint64_t(k)));
        for (int j = 0; j < k; j++) weft::block_end(&held[(first + j) % k]);
      }
      CHECK(entries_of(me) == 0);
    });
    join_all(ts);
  }
  stop.store(true, std::memory_order_release);
  reader.join();
  CHECK(weft::blocked_snapshot().empty());
  obj->release();
}

}  // namespace
}  // namespace wt
