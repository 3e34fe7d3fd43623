// test_rate.cc — RateLimiter (core/sync/rate.h): many threads taking tokens from one bucket
// never get more than burst + rate x elapsed; reservations canceled from other threads give
// their tokens back without ever inflating the bucket; sleep() ends at its deadline or when a
// done channel closes.
#include <cmath>

#include "core/sync/rate.h"
#include "sync_wait.h"

namespace wt {
namespace {

using weft::RateLimiter;
using Res = weft::abi::RateRes;

// T threads call allow() (random n in 1..3) on the limiter's own clock for a while. Each
// success is counted; at the end the total must not exceed what the bucket could have given
// between the limiter's creation and the last grant: burst + rate x elapsed (+1 token of
// float slack). The clock is read under the limiter's lock, so the bound is exact.
TEST(rate_allow_never_exceeds_bucket) {
  const double rate = 20000;  // tokens/s: enough grants to exercise contention
  const int64_t burst = 50;
  auto* lim = new RateLimiter(rate, burst);
  const int T = 4;
  const uint64_t run_ns = uint64_t(scaled(150)) * 1000000;  // ~150 ms
  std::atomic<int64_t> taken{0};
  std::atomic<int64_t> last_grant{0};
  std::vector<std::thread> ts;
  const uint64_t start = weft::now_ns();
  for (int i = 0; i < T; i++) {
    ts.emplace_back([&, i] {
      uint64_t rng = seed_for(uint64_t(i) + 1);
      int64_t mine = 0;
      while (weft::now_ns() - start < run_ns) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t n = int64_t(1 + (rng >> 33) % 3);
        if (lim->allow(RateLimiter::kNow, n) == Res::Ok) {
          mine += n;
          // relaxed: only the joined main thread reads it (join orders it).
          int64_t at = lim->clock();
          int64_t prev = last_grant.load(std::memory_order_relaxed);
          while (at > prev && !last_grant.compare_exchange_weak(prev, at, std::memory_order_relaxed)) {
          }
        }
        progress();
      }
      taken.fetch_add(mine, std::memory_order_relaxed);
    });
  }
  for (auto& t : ts) t.join();
  double elapsed_s = double(last_grant.load()) / 1e9;
  double bound = double(burst) + rate * elapsed_s + 1;
  CHECKF(double(taken.load()) <= bound, "taken %lld > bound %.1f", (long long)taken.load(), bound);
  // And the bucket was actually used: at least the burst went out.
  CHECK(taken.load() >= burst);
  lim->release();
}

// Reservations (some far in the future) from T threads, half of them canceled at once by the
// reserving thread: the bucket never holds more than `burst`, and every successful reserve's
// delay is >= 0. With a slow rate the canceled ones must leave the total reserved-and-kept
// within burst + rate x elapsed.
TEST(rate_reserve_cancel_concurrent) {
  const double rate = 2000;
  const int64_t burst = 10;
  auto* lim = new RateLimiter(rate, burst);
  const int T = 4;
  const size_t N = scaled(3000);
  std::atomic<int64_t> kept{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < T; i++) {
    ts.emplace_back([&, i] {
      int64_t mine = 0;
      for (size_t k = 0; k < N; k++) {
        RateLimiter::Reservation r;
        Res res = lim->reserve(RateLimiter::kNow, 1 + int64_t((k + size_t(i)) % 2), RateLimiter::kNever, &r);
        CHECK(res == Res::Ok);
        CHECK(r.time_to_act >= r.now);
        if (k % 2 == 0) {
          lim->cancel(RateLimiter::kNow, r);
        } else if (r.time_to_act <= lim->clock()) {
          mine += r.tokens;  // acted on time
        } else {
          lim->cancel(RateLimiter::kNow, r);  // would have to wait: give it back
        }
        CHECK(lim->tokens(RateLimiter::kNow) <= double(burst));
        progress();
      }
      kept.fetch_add(mine, std::memory_order_relaxed);
    });
  }
  for (auto& t : ts) t.join();
  double bound = double(burst) + rate * double(lim->clock()) / 1e9 + 1;
  CHECKF(double(kept.load()) <= bound, "kept %lld > bound %.1f", (long long)kept.load(), bound);
  lim->release();
}

// Setters racing with takers: no crash, no torn state (TSan), tokens within [-(burst max), burst].
TEST(rate_setters_race) {
  auto* lim = new RateLimiter(1000, 5);
  std::atomic<bool> stop{false};
  std::thread setter([&] {
    for (size_t k = 0; k < scaled(2000); k++) {
      lim->set_rate(RateLimiter::kNow, k % 7 == 0 ? INFINITY : double(k % 1000));
      lim->set_burst(RateLimiter::kNow, int64_t(k % 9));
      progress();
    }
    stop.store(true, std::memory_order_relaxed);
  });
  std::thread taker([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      Res r = lim->allow(RateLimiter::kNow, 2);
      CHECK(r == Res::Ok || r == Res::Late || r == Res::Never || r == Res::Burst);
      double t = lim->tokens(RateLimiter::kNow);
      CHECK(!std::isnan(t) && t <= 9);
      progress();
    }
  });
  setter.join();
  taker.join();
  lim->release();
}

// sleep(): returns Ok at its deadline (not before), Canceled when a done channel closes from
// another thread (promptly, long before the deadline).
TEST(rate_sleep_deadline_and_done) {
  auto* lim = new RateLimiter(10, 1);
  uint64_t t0 = weft::now_ns();
  CHECK(lim->sleep(this_thread(), t0 + 20000000, nullptr) == kOk);
  CHECK(weft::now_ns() >= t0 + 20000000);
  progress();

  auto* done = new Channel(0, Elem::Bool);
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(done->close());
  });
  t0 = weft::now_ns();
  CHECK(lim->sleep(this_thread(), t0 + 30000000000ULL, done) == kCanceled);
  CHECK(weft::now_ns() - t0 < 10000000000ULL);
  progress();
  closer.join();
  // An already closed done channel: Canceled at once.
  CHECK(lim->sleep(this_thread(), weft::now_ns() + 30000000000ULL, done) == kCanceled);
  done->release();
  lim->release();
}

// x/time/rate's deterministic cases on explicit times (100 ms steps).
TEST(rate_deterministic_cases) {
  const int64_t d = 100000000;
  auto* lim = new RateLimiter(10, 3);
  CHECK(lim->allow(0, 2) == Res::Ok);
  CHECK(lim->allow(0, 2) == Res::Late);
  CHECK(lim->allow(0, 1) == Res::Ok);
  CHECK(lim->allow(d, 4) == Res::Burst);
  CHECK(lim->allow(2 * d, 1) == Res::Ok);
  lim->release();

  lim = new RateLimiter(10, 2);  // TestCancelMulti-like: cancel gives back what no one depends on
  RateLimiter::Reservation a, b;
  CHECK(lim->reserve(0, 2, RateLimiter::kNever, &a) == Res::Ok && a.time_to_act == 0);
  CHECK(lim->reserve(0, 2, RateLimiter::kNever, &b) == Res::Ok && b.time_to_act == 2 * d);
  lim->cancel(d, b);  // 2 tokens back
  CHECK(lim->reserve(d, 2, RateLimiter::kNever, &b) == Res::Ok && b.time_to_act == 2 * d);
  lim->release();

  lim = new RateLimiter(0, 1);  // rate 0: the first token, then never
  CHECK(lim->allow(0, 1) == Res::Ok);
  CHECK(lim->reserve(0, 1, RateLimiter::kNever, &a) == Res::Never);
  lim->release();
}

}  // namespace
}  // namespace wt
