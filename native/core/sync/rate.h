// rate.h — golang.org/x/time/rate's token bucket in shared memory: one bucket for every thread
// holding the RateLimiter (API.md §8).
//
// Model (x/time/rate): the bucket holds up to `burst` tokens and refills at `limit` tokens per
// second. A request for n tokens is a reservation: the tokens are taken now, possibly driving
// the count negative, and the reservation says when the caller may act (timeToAct, when the
// count would have climbed back to zero). allow() is a reservation that must act now; wait()
// is a reservation followed by a sleep until timeToAct (sleep() below, on weft's block_on);
// a wait that gives up cancels its reservation, which gives back the tokens that no later
// reservation depends on.
//
// Time is int64 ns on the limiter's own timeline. With kNow the limiter reads CLOCK_MONOTONIC
// (relative to its creation, so times stay exact as doubles in JavaScript for ~104 days)
// *under its lock*: two threads can then never present times out of order, which would let the
// bucket refill the same interval twice. (allow() first reads the clock and a snapshot without
// the lock: a request the snapshot cannot meet is refused there, writing nothing, so two
// threads hammering a limiter share its cache line instead of its lock; only a request that
// takes tokens locks and reads the clock again.) Tests pass explicit times instead (an injected
// clock), as x/time/rate's tests call the *At methods.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "core/chan/channel.h"
#include "core/park/waitq.h"
#include "core/sync/block.h"

namespace weft {

class RateLimiter final : public SyncPrim {
 public:
  // A time argument meaning "now, read under the lock".
  static constexpr int64_t kNow = INT64_MIN;
  // A duration too long to represent (rate 0, or an overflow): a request that can never be met.
  static constexpr int64_t kNever = INT64_MAX;

  using Res = abi::RateRes;  // Ok, Late (over max_wait_ns), Never (rate 0), Burst (n > burst)

  struct Reservation {
    int64_t tokens = 0;       // n
    int64_t time_to_act = 0;  // ns, limiter timeline
    int64_t now = 0;          // the time the reservation was made at (delay = time_to_act - now)
    double limit = 0;         // the rate when it was made (it may change later)
  };

  // rate: tokens per second, >= 0 (INFINITY: every request is allowed, burst ignored).
  RateLimiter(double rate, int64_t burst);

  // The limiter's clock: ns since its creation (CLOCK_MONOTONIC).
  int64_t clock() const;

  // Takes n tokens for an event at `now`, if that needs no wait (x/time/rate's AllowN).
  Res allow(int64_t now, int64_t n);
  // Reserves n tokens at `now` if the wait is at most max_wait_ns (kNever: any finite wait).
  // On Res::Ok, *out describes the reservation (for the delay and for cancel()).
  Res reserve(int64_t now, int64_t n, int64_t max_wait_ns, Reservation* out);
  // Gives back what r took, as far as later reservations allow (Reservation.CancelAt). Only for
  // a reservation that reserve() returned Res::Ok for, and at most once (the caller's duty).
  void cancel(int64_t now, const Reservation& r);

  // Tokens available at `now` (negative while reservations are outstanding).
  double tokens(int64_t now);
  double rate();
  int64_t burst();
  void set_rate(int64_t now, double rate);
  void set_burst(int64_t now, int64_t burst);

  // Blocks the calling thread until the absolute CLOCK_MONOTONIC `deadline` (ns), or until the
  // context's `done` channel (optional) closes, or the thread is torn down: weft's block_on with
  // nothing to take, so dump() shows the thread as blocked in a wait on this limiter. Returns
  // abi Code Ok (the deadline came), Canceled (done closed) or Stopped.
  int32_t sleep(const BlockThread& t, uint64_t deadline, Channel* done);

  // SyncPrim: sleep() never queues a record and nothing ever grants one.
  void unlink(SyncRec*) override {}
  void abandon(SyncRec*) override {}

 private:
  int64_t now_locked(int64_t now) const { return now == kNow ? clock() : now; }
  double advance_locked(int64_t now) const;
  Res reserve_locked(int64_t t, int64_t n, int64_t max_wait_ns, Reservation* out);

  // CLOCK_MONOTONIC at creation. Immutable: other threads read it without the lock, after
  // receiving the object through weft's registry/messages, whose hand-off (release/acquire)
  // publishes the constructed object.
  const uint64_t epoch_;
  // The state below is written only under mu_: each operation is a short read-modify-write
  // of the whole state (x/time/rate does the same under its sync.Mutex), and mu_'s
  // acquire/release orders every writer's updates for the next one.
  //
  // allow() may also *read* it without mu_ (allow_fast, rate.cc): a seqlock. Every write
  // section (Writing, rate.cc) makes seq_ odd before its first store and even again after its
  // last; a reader that sees the same even seq_ before and after its loads read one writer's
  // complete state. The fields are atomics (relaxed) so such a read is never a data race; the
  // ordering comes from seq_ and the fences at the two sites (see Writing and allow_fast).
  std::mutex mu_;
  std::atomic<uint64_t> seq_{0};
  std::atomic<double> limit_;
  std::atomic<int64_t> burst_;
  std::atomic<double> tokens_;
  std::atomic<int64_t> last_{0};  // when tokens_ was last brought up to date
  int64_t last_event_ = 0;        // the latest timeToAct handed out (mu_ only; allow never reads it)

  class Writing;  // a write section: holds mu_ and keeps seq_ odd while it lives (rate.cc)
  // allow() without mu_ when the answer needs no write: Late (not enough tokens) or Ok at an
  // infinite rate, from a consistent snapshot. -1: no answer (a writer was active, or the
  // request would take tokens): take the lock.
  int allow_fast(int64_t now, int64_t n) const;
  // tokens_ brought forward to t from a snapshot of the state.
  static double advance(double limit, int64_t burst, double tokens, int64_t last, int64_t t);
};

}  // namespace weft
