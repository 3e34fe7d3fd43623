// timer.cc — see timer.h.
#include "core/time/timer.h"

#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <chrono>
#include <thread>

#include "core/park/parker.h"

namespace weft {

double epoch_ms() {
  using namespace std::chrono;
  return double(duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count()) /
         1e6;
}

// ---- TimerService ----------------------------------------------------------------------

TimerService& timer_service() {
  // Leaked on purpose (see timer.h); the function-local static is initialised thread-safely.
  static TimerService* s = new TimerService();
  return *s;
}

void TimerService::schedule(TimerTarget* t, uint64_t deadline_ns, uint64_t gen) {
  std::lock_guard<std::mutex> g(mu_);
  bool earliest = heap_.empty() || deadline_ns < heap_.top().deadline;
  bool started = false;
  if (!running_) {
    // May throw (std::system_error: thread limit, no memory): nothing has changed then, and
    // the caller's entry point reports it. The new thread first waits for mu_, held here.
    std::thread([this] { run(); }).detach();
    running_ = true;
    started = true;
  }
  // May throw (no memory): nothing queued; a thread just started finds the heap empty, exits.
  heap_.push(Entry{deadline_ns, seq_, t, gen});
  seq_++;
  t->retain();  // the heap's reference; the timer thread cannot pop it before we unlock
  if (!started && earliest) cv_.notify_one();
}

size_t TimerService::pending() {
  std::lock_guard<std::mutex> g(mu_);
  return heap_.size();
}

bool TimerService::thread_running() {
  std::lock_guard<std::mutex> g(mu_);
  return running_;
}

void TimerService::run() {
#if defined(__linux__)
  // Wake at the deadline, not up to 50 us after it (Linux's default timer slack). Elsewhere
  // the system's own timer coalescing applies.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
#endif
  std::unique_lock<std::mutex> lk(mu_);
  // No allocation on this thread: an exception here would have no one to report to (and would
  // std::terminate the process). Due entries go through a fixed batch; more wait one round.
  constexpr size_t kBatch = 64;
  Entry due[kBatch];
  while (!heap_.empty()) {
    uint64_t now = now_ns();
    uint64_t next = heap_.top().deadline;
    if (next > now) {
      // now_ns() reads steady_clock: the deadlines are on this condition variable's clock.
      cv_.wait_until(lk, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(next)));
      continue;
    }
    size_t nd = 0;
    while (nd < kBatch && !heap_.empty() && heap_.top().deadline <= now) {
      due[nd++] = heap_.top();
      heap_.pop();
    }
    // Fire without the heap lock: targets take their own locks and may schedule again.
    lk.unlock();
    for (size_t i = 0; i < nd; i++) {
      try {
        due[i].target->fire(due[i].gen, now);
      } catch (...) {
        // Only a ticker re-arming itself allocates (heap growth); out of memory it stops.
      }
      due[i].target->release();
    }
    lk.lock();
  }
  running_ = false;
}

// ---- Timer -----------------------------------------------------------------------------

Timer::Timer(bool ticker)
    : TimerTarget(ticker ? Kind::Ticker : Kind::Timer), ch_(new Channel(1, Elem::F64)) {
  ch_->set_owner(ticker ? Channel::Owner::Ticker : Channel::Owner::Timer);  // before publication
}

Timer::~Timer() { ch_->release(); }

bool Timer::disarm_locked() {
  bool was = armed_;
  armed_ = false;
  gen_++;
  uint64_t v;
  // An expired value nobody received is discarded and counts as "stopped in time".
  if (ch_->try_recv(&v) == Channel::Res::kOk) was = true;
  return was;
}

bool Timer::stop() {
  std::lock_guard<std::mutex> g(mu_);
  return disarm_locked();
}

bool Timer::reset(uint64_t delay_ns, uint64_t period_ns) {
  std::lock_guard<std::mutex> g(mu_);
  bool was = disarm_locked();
  armed_ = true;  // fire() reads it under mu_, held here
  period_ = period_ns;
  // kNever (ms = Infinity): armed, but no deadline ever comes; stop()/reset() still see it.
  if (delay_ns == kNever) return was;
  uint64_t now = now_ns();
  if (delay_ns == 0) {
    // Go 1.23: a timer whose duration is <= 0 has expired: its value is receivable as soon as
    // reset()/the constructor returns, not after a round trip through the timer thread.
    next_ = now;  // a ticker's period counts from now
    fire_locked(now);
    return was;
  }
  next_ = now + delay_ns;
  try {
    timer_service().schedule(this, next_, gen_);  // may throw (no memory): left disarmed
  } catch (...) {
    armed_ = false;  // fire() reads it under mu_, held here
    throw;
  }
  return was;
}

Timer::State Timer::state() {
  std::lock_guard<std::mutex> g(mu_);
  return State{armed_, period_, ch_->length() > 0};
}

void Timer::fire(uint64_t gen, uint64_t now) {
  std::lock_guard<std::mutex> g(mu_);
  if (gen != gen_ || !armed_) return;  // stopped or reset since this was scheduled
  fire_locked(now);
}

void Timer::fire_locked(uint64_t now) {
  // Capacity 1: a ticker whose last tick is still unreceived drops this one (no burst).
  ch_->try_send(f64_bits(epoch_ms()));
  if (period_ == 0) {
    armed_ = false;
    return;
  }
  if (period_ == kNever) {  // a ticker of period Infinity (not reachable from JS): one tick
    armed_ = false;
    return;
  }
  next_ += period_;
  if (next_ <= now) next_ = now + period_ - (now - next_) % period_;  // skip missed ticks
  timer_service().schedule(this, next_, gen_);
}

}  // namespace weft
