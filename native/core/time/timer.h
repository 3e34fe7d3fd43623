// timer.h — one native timer thread for the whole process, and Go's Timer/Ticker on it.
//
// Deadlines (timers, tickers, context deadlines) sit in one heap served by one thread, so a
// worker blocked in recvSync/selectSync on a timer channel wakes on time even though no
// JavaScript event loop runs, and ten thousand timers cost one thread. The thread starts with
// the first deadline and exits when the heap is empty.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <queue>
#include <vector>

#include "core/chan/channel.h"
#include "core/shared.h"

namespace weft {

// Something with a deadline. fire() runs on the timer thread.
class TimerTarget : public Shared {
 public:
  using Shared::Shared;
  // `gen` is the generation passed to schedule(); targets ignore stale generations.
  virtual void fire(uint64_t gen, uint64_t now_ns) = 0;
};

class TimerService {
 public:
  // Fires t->fire(gen) at the CLOCK_MONOTONIC deadline. The heap holds a reference to t until
  // then (retained here, released after firing).
  void schedule(TimerTarget* t, uint64_t deadline_ns, uint64_t gen);
  size_t pending();
  bool thread_running();

 private:
  struct Entry {
    uint64_t deadline;
    uint64_t seq;  // FIFO among equal deadlines
    TimerTarget* target;
    uint64_t gen;
    bool operator>(const Entry& o) const {
      return deadline != o.deadline ? deadline > o.deadline : seq > o.seq;
    }
  };
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;  // guarded by mu_
  uint64_t seq_ = 0;                                                          // guarded by mu_
  bool running_ = false;                                                      // guarded by mu_
};

// The process-wide timer thread's service (created on first use, never destroyed: worker
// threads may still schedule or fire while the process exits).
TimerService& timer_service();

// Wall-clock time in ms since the epoch (the value timer channels carry).
double epoch_ms();

// Go's time.Timer / time.Ticker (1.23 semantics): a capacity-1 f64 channel that receives the
// fire time. Stop and reset remove any value not yet received, under the same lock the timer
// thread fires under, so no value from before them can be received after they return.
class Timer final : public TimerTarget {
 public:
  explicit Timer(bool ticker);
  ~Timer() override;
  Channel* channel() const { return ch_; }
  // (Re)arms the timer: fires after delay_ns, then every period_ns if period_ns > 0.
  // Returns whether it was armed (or had fired with the value still unreceived).
  bool reset(uint64_t delay_ns, uint64_t period_ns);
  // Disarms; same return value as reset.
  bool stop();
  void fire(uint64_t gen, uint64_t now_ns) override;
  // A delay that never comes (ms = Infinity): the timer is armed but never scheduled.
  static constexpr uint64_t kNever = UINT64_MAX;
  // For util.inspect: armed, period (ns, 0 for a Timer), a value waiting in the channel.
  struct State {
    bool armed;
    uint64_t period_ns;
    bool ready;
  };
  State state();

 private:
  bool disarm_locked();
  void fire_locked(uint64_t now_ns);  // mu_ held
  std::mutex mu_;
  Channel* const ch_;      // owned reference
  uint64_t gen_ = 0;       // guarded by mu_: bumped by stop/reset, stale heap entries ignored
  bool armed_ = false;     // guarded by mu_
  uint64_t period_ = 0;    // guarded by mu_
  uint64_t next_ = 0;      // guarded by mu_
};

}  // namespace weft
