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

// tokens_ brought forward to t (nothing changed). A t before last_ (an injected clock going
// back) adds nothing: x/time/rate's newer advance().
double RateLimiter::advance_locked(int64_t t) const {
  int64_t last = t < last_ ? t : last_;
  double tokens = tokens_ + tokens_over(limit_, t - last);
  double burst = double(burst_);
  return tokens > burst ? burst : tokens;
}

RateLimiter::Res RateLimiter::allow(int64_t now, int64_t n) {
  Reservation r;
  return reserve(now, n, 0, &r);
}

RateLimiter::Res RateLimiter::reserve(int64_t now, int64_t n, int64_t max_wait_ns,
                                      Reservation* out) {
  std::lock_guard<std::mutex> g(mu_);
  // The clock is read under mu_ (see rate.h): successive holders see non-decreasing times.
  int64_t t = now_locked(now);
  if (std::isinf(limit_)) {
    // Every request passes and nothing is taken: a cancel has nothing to give back (tokens 0).
    *out = Reservation{0, t, t, limit_};
    return Res::Ok;
  }
  if (n > burst_) return Res::Burst;
  double tokens = advance_locked(t) - double(n);
  int64_t wait = 0;
  if (tokens < 0) wait = duration_of(limit_, -tokens);
  if (wait == kNever || t > kNever - wait) return Res::Never;
  if (wait > max_wait_ns) return Res::Late;
  *out = Reservation{n, t + wait, t, limit_};
  last_ = t;
  tokens_ = tokens;
  last_event_ = out->time_to_act;
  return Res::Ok;
}

void RateLimiter::cancel(int64_t now, const Reservation& r) {
  std::lock_guard<std::mutex> g(mu_);
  int64_t t = now_locked(now);
  if (std::isinf(limit_) || r.tokens == 0 || r.time_to_act < t) return;  // nothing, or too late
  // The reservations made after r (up to last_event_) were computed on top of r's tokens:
  // those tokens stay spent; the rest come back.
  int64_t later = last_event_ - r.time_to_act;
  double restore = double(r.tokens) - tokens_over(r.limit, later);
  if (!(restore > 0)) return;
  double tokens = advance_locked(t) + restore;
  double burst = double(burst_);
  last_ = t;
  tokens_ = tokens > burst ? burst : tokens;
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

double RateLimiter::rate() {
  std::lock_guard<std::mutex> g(mu_);
  return limit_;
}

int64_t RateLimiter::burst() {
  std::lock_guard<std::mutex> g(mu_);
  return burst_;
}

void RateLimiter::set_rate(int64_t now, double rate) {
  std::lock_guard<std::mutex> g(mu_);
  int64_t t = now_locked(now);
  tokens_ = advance_locked(t);  // what accrued so far accrued at the old rate
  last_ = t;
  limit_ = rate;
}

void RateLimiter::set_burst(int64_t now, int64_t burst) {
  std::lock_guard<std::mutex> g(mu_);
  int64_t t = now_locked(now);
  tokens_ = advance_locked(t);
  last_ = t;
  burst_ = burst;
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
