// parker.cc — see parker.h.
#include "core/park/parker.h"

#include <algorithm>
#include <chrono>
#include <thread>

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>  // _mm_pause
#elif defined(_MSC_VER) && defined(_M_ARM64)
#include <intrin.h>  // __yield
#endif

#include "core/park/inbox.h"

namespace weft {

uint64_t now_ns() {
  // libstdc++ and libc++ read CLOCK_MONOTONIC here on Linux (the futex backend's absolute
  // deadlines rely on it), CLOCK_UPTIME_RAW on macOS, QueryPerformanceCounter on Windows.
  return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count());
}

void cpu_relax() {
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
  _mm_pause();
#elif defined(_MSC_VER) && defined(_M_ARM64)
  __yield();
#elif defined(__x86_64__) || defined(__i386__)
  __asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

void thread_yield() { std::this_thread::yield(); }

void complete(Waiter* w) {
  if (w->async) {
    // The inbox owns delivery from here; the owner thread frees the waiter after processing.
    w->inbox->push(w);
    return;
  }
  // release: publishes the CaseRec writes made by this claimer to the owner's acquire load.
  // If the owner announced it is asleep (2), it needs a syscall to wake up. A wake on a word
  // whose owner already returned is harmless: every backend keys sleepers by address only.
  if (w->word.exchange(1, std::memory_order_acq_rel) == 2) word_wake_one(&w->word);
}

namespace {
// Before sleeping, a parked thread polls its word for a while: a peer on another core usually
// answers within a few microseconds (a ping-pong), far sooner than a trip through the kernel
// (~15 us for a futex with both sides asleep). Then a few yields, for when threads outnumber
// cores.
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
    thread_yield();
  }
  for (;;) {
    uint32_t cur = 0;
    // Announce that we are going to sleep; a completer that swaps in 1 afterwards sees 2 and
    // issues the wake (word_wake_one). If the CAS fails the word is already 1 (completed).
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
    word_wait(&w->word, 2, until);
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
    word_wait(&w->word, 2, 0);
    if (w->word.load(std::memory_order_acquire) == 1) return;
  }
}

}  // namespace weft
