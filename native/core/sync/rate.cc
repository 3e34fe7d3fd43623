// rate.cc — see rate.h. The arithmetic follows golang.org/x/time/rate (reserveN, advance,
// Reservation.CancelAt), on int64 ns and double tokens.
#include "core/sync/rate.h"

#include <cmath>

namespace weft {

namespace {

constexpr int64_t kSecond = 1000000000;

// Tokens accumulated over d ns at `limit` per second. Whole seconds and the rest are scaled
// apart, so a long d loses no nanoseconds to rounding (golang.org/issues/34861). d may be
// negative (a cancel after the clock went back), as in x/time/rate.
double tokens_over(double limit, int64_t d) {
  if (d == 0) return 0;  // also avoids 0 * Infinity
  if (std::isinf(limit)) return d > 0 ? limit : -limit;
  double sec = double(d / kSecond) * limit;
  double nsec = double(d % kSecond) * limit;
  return sec + nsec / 1e9;
}

// ns needed to accumulate `tokens` at `limit` per second (negative tokens: a negative span);
// RateLimiter::kNever when that is not representable (rate 0, or an overflow).
int64_t duration_of(double limit, double tokens) {
  if (limit <= 0) return RateLimiter::kNever;
  double d = tokens / limit * 1e9;
  if (d >= 9.2e18) return RateLimiter::kNever;
  if (d <= -9.2e18) return -RateLimiter::kNever;
  return int64_t(d);  // truncates toward zero, like time.Duration(float64)
}

}  // namespace

RateLimiter::RateLimiter(double rate, int64_t burst)
    : SyncPrim(Kind::RateLimiter), epoch_(now_ns()), limit_(rate), burst_(burst),
      tokens_(double(burst)) {}

int64_t RateLimiter::clock() const { return int64_t(now_ns() - epoch_); }

// A write section of the seqlock (rate.h): mu_ for the writers, seq_ odd for the readers.
// The store that makes seq_ odd is relaxed, followed by a release fence: no field store of
// the section becomes visible before seq_ turns odd (pairs with allow_fast's acquire fence
// before its second seq_ load). The store that makes seq_ even again is a release: it
// publishes the fields (pairs with allow_fast's acquire load of seq_). Writers among
// themselves are ordered by mu_.
class RateLimiter::Writing {
 public:
  explicit Writing(RateLimiter* l) : l_(l), g_(l->mu_) {
    uint64_t s = l_->seq_.load(std::memory_order_relaxed);
    l_->seq_.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  ~Writing() { l_->seq_.store(l_->seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
  Writing(const Writing&) = delete;
  Writing& operator=(const Writing&) = delete;

 private:
  RateLimiter* l_;
  std::lock_guard<std::mutex> g_;
};

constexpr auto kRelaxed = std::memory_order_relaxed;

double RateLimiter::advance(double limit, int64_t burst, double tokens, int64_t last, int64_t t) {
  // A t before last (an injected clock going back, or a clock read before another thread's
  // update) adds nothing: x/time/rate's newer advance().
  if (t < last) last = t;
  double v = tokens + tokens_over(limit, t - last);
  double b = double(burst);
  return v > b ? b : v;
}

// tokens_ brought forward to t (nothing changed); mu_ held.
double RateLimiter::advance_locked(int64_t t) const {
  return advance(limit_.load(kRelaxed), burst_.load(kRelaxed), tokens_.load(kRelaxed),
                 last_.load(kRelaxed), t);
}

int RateLimiter::allow_fast(int64_t now, int64_t n) const {
  // acquire: pairs with the release store that ended the last write section (its fields are
  // visible to the loads below).
  uint64_t s = seq_.load(std::memory_order_acquire);
  if (s & 1) return -1;  // a writer is in its section
  double limit = limit_.load(kRelaxed);
  int64_t burst = burst_.load(kRelaxed);
  double tokens = tokens_.load(kRelaxed);
  int64_t last = last_.load(kRelaxed);
  // acquire fence: the loads above happen before the re-check of seq_; if a writer's store
  // reached any of them, its odd seq_ (release-fenced before that store) is seen here.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (seq_.load(kRelaxed) != s) return -1;
  if (std::isinf(limit)) return int(Res::Ok);  // takes nothing (reserve() writes nothing either)
  if (n > burst) return int(Res::Burst);
  // The clock is read after the snapshot, so t is no earlier than any time the snapshot's
  // writer read (its clock read came before its release of seq_): the snapshot's tokens at t
  // are what the bucket held at t unless a later writer took some, which only lowers them.
  int64_t t = now == kNow ? clock() : now;
  if (advance(limit, burst, tokens, last, t) - double(n) < 0) return int(Res::Late);
  return -1;  // enough tokens: take them under the lock
}

RateLimiter::Res RateLimiter::allow(int64_t now, int64_t n) {
  int fast = allow_fast(now, n);
  if (fast >= 0) return Res(fast);
  Reservation r;
  return reserve(now, n, 0, &r);
}

RateLimiter::Res RateLimiter::reserve(int64_t now, int64_t n, int64_t max_wait_ns,
                                      Reservation* out) {
  // A write section even when the answer turns out to write nothing (Late, Never, Burst):
  // reserve() is not the hot path; allow() filters those out before it gets here.
  Writing w(this);
  // The clock is read under mu_ (see rate.h): successive holders see non-decreasing times.
  return reserve_locked(now_locked(now), n, max_wait_ns, out);
}

RateLimiter::Res RateLimiter::reserve_locked(int64_t t, int64_t n, int64_t max_wait_ns,
                                             Reservation* out) {
  double limit = limit_.load(kRelaxed);
  if (std::isinf(limit)) {
    *out = Reservation{0, t, t, limit};
    return Res::Ok;
  }
  if (n > burst_.load(kRelaxed)) return Res::Burst;
  double tokens = advance_locked(t) - double(n);
  int64_t wait = 0;
  if (tokens < 0) wait = duration_of(limit, -tokens);
  if (wait == kNever || t > kNever - wait) return Res::Never;
  if (wait > max_wait_ns) return Res::Late;
  *out = Reservation{n, t + wait, t, limit};
  last_.store(t, kRelaxed);
  tokens_.store(tokens, kRelaxed);
  last_event_ = out->time_to_act;
  return Res::Ok;
}

void RateLimiter::cancel(int64_t now, const Reservation& r) {
  Writing w(this);
  int64_t t = now_locked(now);
  if (std::isinf(limit_.load(kRelaxed)) || r.tokens == 0 || r.time_to_act < t) return;  // nothing, or too late
  // The reservations made after r (up to last_event_) were computed on top of r's tokens:
  // those tokens stay spent; the rest come back.
  int64_t later = last_event_ - r.time_to_act;
  double restore = double(r.tokens) - tokens_over(r.limit, later);
  if (!(restore > 0)) return;
  double tokens = advance_locked(t) + restore;
  double burst = double(burst_.load(kRelaxed));
  last_.store(t, kRelaxed);
  tokens_.store(tokens > burst ? burst : tokens, kRelaxed);
  if (r.time_to_act == last_event_ && r.limit > 0 && !std::isinf(r.limit)) {
    // r was the latest reservation: the latest event is now the one before it.
    int64_t back = duration_of(r.limit, -double(r.tokens));
    if (back != -kNever) {
      int64_t prev = r.time_to_act + back;
      if (prev >= t) last_event_ = prev;
    }
  }
}

double RateLimiter::tokens(int64_t now) {
  std::lock_guard<std::mutex> g(mu_);
  return advance_locked(now_locked(now));
}

double RateLimiter::rate() { return limit_.load(kRelaxed); }

int64_t RateLimiter::burst() { return burst_.load(kRelaxed); }

void RateLimiter::set_rate(int64_t now, double rate) {
  Writing w(this);
  int64_t t = now_locked(now);
  tokens_.store(advance_locked(t), kRelaxed);  // what accrued so far accrued at the old rate
  last_.store(t, kRelaxed);
  limit_.store(rate, kRelaxed);
}

void RateLimiter::set_burst(int64_t now, int64_t burst) {
  Writing w(this);
  int64_t t = now_locked(now);
  tokens_.store(advance_locked(t), kRelaxed);
  last_.store(t, kRelaxed);
  burst_.store(burst, kRelaxed);
}

int32_t RateLimiter::sleep(const BlockThread& t, uint64_t deadline, Channel* done) {
  SyncRec rec;
  // Nothing to take and nothing queued: only the deadline, the done channel (which claims the
  // Waiter with its acq_rel CAS, paired with block_on's cancel CAS) or the thread's teardown
  // ends the park. A park that reached its deadline is the reservation's time to act.
  int32_t code = block_on(t, this, "wait", rec, deadline, nullptr, done,
                          [](SyncRec*, bool) { return false; });
  return code == abi::ix(abi::Code::Timeout) ? abi::ix(abi::Code::Ok) : code;
}

}  // namespace weft
