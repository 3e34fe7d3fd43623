// parker_futex.cc — the Linux backend of the parking interface (parker.h): futex(2) on the
// word itself, process-private. glibc and musl alike (the system call, no libc wrapper).
#include "core/park/backend.h"

#if defined(WEFT_PARKER_USE_FUTEX)

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "core/park/parker.h"

#if __has_include(<linux/futex.h>)
#include <linux/futex.h>
#endif
// The kernel ABI's values, for C libraries installed without the kernel headers (Alpine's
// musl-dev does not pull in linux-headers).
#ifndef FUTEX_WAKE
#define FUTEX_WAKE 1
#endif
#ifndef FUTEX_WAIT_BITSET
#define FUTEX_WAIT_BITSET 9
#endif
#ifndef FUTEX_PRIVATE_FLAG
#define FUTEX_PRIVATE_FLAG 128
#endif
#ifndef FUTEX_BITSET_MATCH_ANY
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#endif

namespace weft {

bool word_wait(std::atomic<uint32_t>* w, uint32_t expected, uint64_t deadline_ns) noexcept {
  timespec ts;
  timespec* tp = nullptr;
  if (deadline_ns != 0) {
    ts.tv_sec = time_t(deadline_ns / 1000000000ull);
    ts.tv_nsec = long(deadline_ns % 1000000000ull);
    tp = &ts;
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline (no drift across EINTR);
  // now_ns() is steady_clock, which is CLOCK_MONOTONIC on Linux (libstdc++ and libc++).
  // The kernel compares *w with expected under its hash-bucket lock, and FUTEX_WAKE takes the
  // same lock after the waker's store: a store made before the wake is never missed.
  long r = syscall(SYS_futex, reinterpret_cast<uint32_t*>(w),
                   FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, tp, nullptr,
                   FUTEX_BITSET_MATCH_ANY);
  if (r == -1 && errno == ETIMEDOUT) return false;
  return true;  // woken, EAGAIN (value changed) or EINTR: the caller re-checks
}

namespace {
void wake(std::atomic<uint32_t>* w, int count) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(w), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count,
          nullptr, nullptr, 0);
}
}  // namespace

void word_wake_one(std::atomic<uint32_t>* w) noexcept { wake(w, 1); }
void word_wake_all(std::atomic<uint32_t>* w) noexcept { wake(w, 0x7fffffff); }
const char* parker_backend() noexcept { return "futex"; }

}  // namespace weft

#endif  // WEFT_PARKER_USE_FUTEX
