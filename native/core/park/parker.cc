// parker.cc — see parker.h.
#include "core/park/parker.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/park/inbox.h"

namespace weft {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

bool futex_wait(std::atomic<uint32_t>* w, uint32_t expected, uint64_t deadline_ns) {
  timespec ts;
  timespec* tp = nullptr;
  if (deadline_ns != 0) {
    ts.tv_sec = time_t(deadline_ns / 1000000000ull);
    ts.tv_nsec = long(deadline_ns % 1000000000ull);
    tp = &ts;
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline (no drift across EINTR).
  long r = syscall(SYS_futex, reinterpret_cast<uint32_t*>(w),
                   FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, tp, nullptr,
                   FUTEX_BITSET_MATCH_ANY);
  if (r == -1 && errno == ETIMEDOUT) return false;
  return true;  // woken, EAGAIN (value changed) or EINTR: the caller re-checks
}

void futex_wake(std::atomic<uint32_t>* w, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count,
          nullptr, nullptr, 0);
}

void complete(Waiter* w) {
  if (w->async) {
    // The inbox owns delivery from here; the owner thread frees the waiter after processing.
    w->inbox->push(w);
    return;
  }
  // release: publishes the CaseRec writes made by this claimer to the owner's acquire load.
  // If the owner announced it is asleep (2), it needs a syscall to wake up. A futex_wake on
  // a word whose owner already returned is harmless: private futexes are keyed by address.
  if (w->word.exchange(1, std::memory_order_acq_rel) == 2) futex_wake(&w->word, 1);
}

namespace {
// Before sleeping, a parked thread polls its word for a while: a peer on another core usually
// answers within a few microseconds (a ping-pong), far sooner than a futex round trip (~15 us
// with both sides asleep). Then a few yields, for when threads outnumber cores.
constexpr uint64_t kSpinNs = 30'000;
constexpr int kYieldIters = 8;
constexpr uint64_t kSliceNs = 20'000'000;  // re-check the stop probe this often while asleep
}  // namespace

bool park(Waiter* w, uint64_t deadline_ns, StopProbe probe, void* probe_arg,
          uint64_t* spin_ns) {
  uint64_t budget = spin_ns != nullptr ? *spin_ns : kSpinNs;
  uint64_t start = now_ns();
  uint64_t spin_until = start + budget;
  for (int i = 0;; i++) {
    // Every acquire load of `word` seeing 1 here and below pairs with complete()'s acq_rel
    // exchange: the claimer's writes to the claimed record (outcome, value, grant) are visible.
    if (w->word.load(std::memory_order_acquire) == 1) {
      if (spin_ns != nullptr) *spin_ns = std::min(kSpinMaxNs, budget * 2);
      return true;
    }
    cpu_relax();
    if ((i & 31) == 31 && now_ns() >= spin_until) break;
  }
  // Not answered while polling. If the answer still came within kSpinMaxNs, poll about twice
  // that long next time (capped): the peer is just slower than the budget — and when both
  // sides of a ping-pong were asleep, this is what gets them polling again instead of taking
  // turns waking each other through the kernel. A slower answer halves the budget (the peer
  // is busy elsewhere, or shares our core: polling only burns CPU).
  auto adapt = [&] {
    if (spin_ns == nullptr) return;
    uint64_t waited = now_ns() - start;
    *spin_ns = waited <= kSpinMaxNs ? std::min(kSpinMaxNs, std::max(kSpinMinNs, waited * 2))
                                    : std::max(kSpinMinNs, budget / 2);
  };
  for (int i = 0; i < kYieldIters; i++) {
    if (w->word.load(std::memory_order_acquire) == 1) {
      adapt();
      return true;
    }
    sched_yield();
  }
  for (;;) {
    uint32_t cur = 0;
    // Announce that we are going to sleep; a completer that swaps in 1 afterwards sees 2 and
    // issues the futex wake. If the CAS fails the word is already 1 (completed).
    if (!w->word.compare_exchange_strong(cur, 2, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      if (cur == 1) {
        adapt();
        return true;
      }
    }
    uint64_t now = now_ns();
    if (deadline_ns != 0 && now >= deadline_ns) {
      return w->word.load(std::memory_order_acquire) == 1;
    }
    uint64_t slice = now + kSliceNs;
    uint64_t until = (deadline_ns != 0 && deadline_ns < slice) ? deadline_ns : slice;
    futex_wait(&w->word, 2, until);
    if (w->word.load(std::memory_order_acquire) == 1) {
      adapt();
      return true;
    }
    if (probe != nullptr && now_ns() >= slice && probe(probe_arg)) return false;
  }
}

// The same acquire protocol as park()'s sleep loop: the 0 -> 2 CAS announces the sleeper to
// complete()'s exchange, and reading 1 (acquire) pairs with that exchange's release.
void await_completion(Waiter* w) {
  for (;;) {
    uint32_t cur = 0;
    if (!w->word.compare_exchange_strong(cur, 2, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      if (cur == 1) return;
    }
    futex_wait(&w->word, 2, 0);
    if (w->word.load(std::memory_order_acquire) == 1) return;
  }
}

}  // namespace weft
