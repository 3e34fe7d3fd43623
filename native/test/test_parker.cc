// test_parker.cc — the parking interface itself (park/parker.h: word_wait / word_wake_*), on
// whichever backend this binary was built with (run.sh builds each sanitizer twice: the
// platform's backend and -DWEFT_PARKER_PORTABLE). The portable parking lot hashes addresses to
// a fixed table of buckets, so these tests use more words than it has buckets: a wake-one for
// one word must reach that word's sleeper even when sleepers of other words share its bucket.
#include <cstdlib>
#include <cstring>

#include "harness.h"

namespace wt {
namespace {

using weft::word_wait;
using weft::word_wake_all;
using weft::word_wake_one;

// The backend the build meant to select (run.sh exports WEFT_EXPECT_PARKER per variant).
TEST(parker_backend_selected) {
  const char* want = std::getenv("WEFT_EXPECT_PARKER");
  const char* got = weft::parker_backend();
  std::fprintf(stderr, "parker backend: %s\n", got);
  if (want != nullptr && *want != '\0') CHECKF(std::strcmp(want, got) == 0, "built %s", got);
}

// Timed waits: a past deadline returns false at once, a near one returns false no earlier than
// the deadline, a mismatching value returns (true) without sleeping.
TEST(parker_timed_wait) {
  std::atomic<uint32_t> w{5};
  CHECK(!word_wait(&w, 5, weft::now_ns() - 1));
  for (int i = 0; i < 20; i++) {
    uint64_t deadline = weft::now_ns() + 2'000'000;
    // Spurious returns are allowed: loop like every caller does, until the deadline passes.
    while (word_wait(&w, 5, deadline)) CHECK(weft::now_ns() < deadline + 2'000'000'000ull);
    CHECK(weft::now_ns() >= deadline);
    progress();
  }
  CHECK(word_wait(&w, 6, 0));                        // value differs: no sleep, not a timeout
  CHECK(word_wait(&w, 6, weft::now_ns() + 1'000'000'000));
}

// Many words (more than the portable table's buckets), one sleeper thread per group of words,
// each sleeper waiting on a word picked at random until its value changes; a waker bumps words
// in random order and wakes one sleeper each time. A lost wake-up hangs (watchdog).
TEST(parker_wake_one_many_words) {
  constexpr int kWords = 1024;
  constexpr int kSleepers = 8;
  const int rounds = int(scaled(2000));
  auto words = std::make_unique<std::atomic<uint32_t>[]>(kWords);
  for (int i = 0; i < kWords; i++) words[i].store(0);
  std::atomic<int> waiting_on[kSleepers];
  for (auto& x : waiting_on) x.store(-1);
  std::atomic<bool> done{false};
  std::vector<std::thread> ts;
  spawn(ts, kSleepers, 71, [&](int id, Rng& rng) {
    for (int r = 0; r < rounds; r++) {
      // Words are partitioned between sleepers (word % kSleepers == id): one sleeper per word.
      int k = int(rng.below(kWords / kSleepers)) * kSleepers + id;
      uint32_t seen = words[k].load(std::memory_order_acquire);
      waiting_on[id].store(k, std::memory_order_release);
      // acquire: pairs with the waker's release store of the bumped value.
      while (words[k].load(std::memory_order_acquire) == seen) word_wait(&words[k], seen, 0);
      waiting_on[id].store(-1, std::memory_order_release);
      progress();
    }
  });
  std::thread waker([&] {
    Rng rng(seed_for(99));
    while (!done.load(std::memory_order_acquire)) {
      int s = int(rng.below(kSleepers));
      int k = waiting_on[s].load(std::memory_order_acquire);
      if (k >= 0) {
        words[k].fetch_add(1, std::memory_order_release);  // the store comes before the wake
        word_wake_one(&words[k]);
      } else {
        // a stray wake on some other word: must be harmless
        word_wake_one(&words[rng.below(kWords)]);
      }
      if (rng.chance(10)) std::this_thread::yield();
    }
  });
  join_all(ts);
  done.store(true, std::memory_order_release);
  waker.join();
}

// wake_all releases every sleeper of one word, and only after the value changed.
TEST(parker_wake_all) {
  constexpr int kSleepers = 6;
  const int rounds = int(scaled(200));
  std::atomic<uint32_t> gen{0};
  std::atomic<int> arrived{0};
  std::vector<std::thread> ts;
  spawn(ts, kSleepers, 83, [&](int, Rng&) {
    for (int r = 0; r < rounds; r++) {
      uint32_t g = uint32_t(r);
      arrived.fetch_add(1, std::memory_order_acq_rel);
      while (gen.load(std::memory_order_acquire) == g) word_wait(&gen, g, 0);
      progress();
    }
  });
  for (int r = 0; r < rounds; r++) {
    // every sleeper has arrived at round r (some may not sleep yet: they then see the bump)
    while (arrived.load(std::memory_order_acquire) < (r + 1) * kSleepers) std::this_thread::yield();
    gen.store(uint32_t(r + 1), std::memory_order_release);
    word_wake_all(&gen);
  }
  join_all(ts);
}

}  // namespace
}  // namespace wt
