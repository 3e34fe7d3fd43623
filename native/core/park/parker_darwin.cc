// parker_darwin.cc — the macOS backend of the parking interface (parker.h).
//
// macOS 14.4+: os_sync_wait_on_address / os_sync_wake_by_address_{any,all} (public API, in
// <os/os_sync_wait_on_address.h>). Older systems (the addon targets macOS 11+): the private
// but stable __ulock_wait2 / __ulock_wake that libc++'s std::atomic::wait and the os_sync calls
// themselves are built on. The choice is made at run time (__builtin_available), so one binary
// serves both; building with an SDK older than 14.4 leaves the ulock path only.
// Both compare *w with the expected value inside the kernel, under the lock the wake also
// takes, so a store made before the wake is never missed.
#include "core/park/backend.h"

#if defined(WEFT_PARKER_USE_DARWIN)

#include <cerrno>
#include <cstddef>

#include "core/park/parker.h"

#if __has_include(<os/os_sync_wait_on_address.h>)
#include <os/os_sync_wait_on_address.h>
#define WEFT_HAVE_OS_SYNC 1
#endif

// <sys/ulock.h> is not in the SDK: the declarations of the kernel's interface (xnu
// bsd/sys/ulock.h), present since macOS 11 (__ulock_wait2) and 10.12 (__ulock_wake).
extern "C" int __ulock_wait2(uint32_t operation, void* addr, uint64_t value, uint64_t timeout_ns,
                             uint64_t value2);
extern "C" int __ulock_wake(uint32_t operation, void* addr, uint64_t wake_value);

namespace weft {

namespace {
constexpr uint32_t kUlCompareAndWait = 1;      // UL_COMPARE_AND_WAIT: 32-bit, process-private
constexpr uint32_t kUlfWakeAll = 0x00000100;   // ULF_WAKE_ALL
constexpr uint32_t kUlfNoErrno = 0x01000000;   // ULF_NO_ERRNO: return -errno

// Remaining ns until the deadline (0 = none); 0 with *expired set when it has passed.
uint64_t remaining(uint64_t deadline_ns, bool* expired) {
  *expired = false;
  if (deadline_ns == 0) return 0;
  uint64_t now = now_ns();
  if (now >= deadline_ns) {
    *expired = true;
    return 0;
  }
  return deadline_ns - now;
}
}  // namespace

bool word_wait(std::atomic<uint32_t>* w, uint32_t expected, uint64_t deadline_ns) noexcept {
  bool expired = false;
  uint64_t timeout = remaining(deadline_ns, &expired);
  if (expired) return false;
  void* addr = static_cast<void*>(w);
#if defined(WEFT_HAVE_OS_SYNC)
  if (__builtin_available(macOS 14.4, *)) {
    // The timeout is relative, in ns (0 is invalid there: the untimed call instead).
    int r = timeout == 0
                ? os_sync_wait_on_address(addr, expected, sizeof(uint32_t),
                                          OS_SYNC_WAIT_ON_ADDRESS_NONE)
                : os_sync_wait_on_address_with_timeout(addr, expected, sizeof(uint32_t),
                                                       OS_SYNC_WAIT_ON_ADDRESS_NONE,
                                                       OS_CLOCK_MACH_ABSOLUTE_TIME, timeout);
    return !(r < 0 && errno == ETIMEDOUT);  // woken, EINTR, value changed: the caller re-checks
  }
#endif
  // timeout 0 = wait forever, as wanted for "no deadline".
  int r = __ulock_wait2(kUlCompareAndWait | kUlfNoErrno, addr, expected, timeout, 0);
  return r != -ETIMEDOUT;
}

namespace {
void wake(std::atomic<uint32_t>* w, bool all) {
  void* addr = static_cast<void*>(w);
#if defined(WEFT_HAVE_OS_SYNC)
  if (__builtin_available(macOS 14.4, *)) {
    // -1 with ENOENT when nobody waits: nothing to do.
    if (all) os_sync_wake_by_address_all(addr, sizeof(uint32_t), OS_SYNC_WAKE_BY_ADDRESS_NONE);
    else os_sync_wake_by_address_any(addr, sizeof(uint32_t), OS_SYNC_WAKE_BY_ADDRESS_NONE);
    return;
  }
#endif
  for (;;) {
    int r = __ulock_wake(kUlCompareAndWait | kUlfNoErrno | (all ? kUlfWakeAll : 0), addr, 0);
    if (r != -EINTR) return;  // done, or -ENOENT: nobody waits
  }
}
}  // namespace

void word_wake_one(std::atomic<uint32_t>* w) noexcept { wake(w, false); }
void word_wake_all(std::atomic<uint32_t>* w) noexcept { wake(w, true); }

const char* parker_backend() noexcept {
#if defined(WEFT_HAVE_OS_SYNC)
  if (__builtin_available(macOS 14.4, *)) return "os_sync";
#endif
  return "ulock";
}

}  // namespace weft

#endif  // WEFT_PARKER_USE_DARWIN
