// parker_windows.cc — the Windows backend of the parking interface (parker.h):
// WaitOnAddress / WakeByAddressSingle / WakeByAddressAll (Windows 8+, synchronization.lib,
// linked by binding.gyp). WaitOnAddress compares *w with the expected value after registering
// the sleeper, so a store made before the wake is never missed.
#include "core/park/backend.h"

#if defined(WEFT_PARKER_USE_WINDOWS)

// WaitOnAddress is declared for Windows 8 and later only (core/win32.h asks for it).
#include "core/win32.h"
#include <synchapi.h>

#include "core/park/parker.h"

namespace weft {

bool word_wait(std::atomic<uint32_t>* w, uint32_t expected, uint64_t deadline_ns) noexcept {
  DWORD ms = INFINITE;
  if (deadline_ns != 0) {
    uint64_t now = now_ns();
    if (now >= deadline_ns) return false;
    // Rounded up, so that a wait never ends before its deadline; capped below INFINITE
    // (the caller re-waits after a spurious-looking early return).
    uint64_t left = (deadline_ns - now + 999'999) / 1'000'000;
    ms = left >= uint64_t(INFINITE) ? INFINITE - 1 : DWORD(left);
  }
  // std::atomic<uint32_t> has the layout of uint32_t (static_assert in parker.h);
  // WaitOnAddress reads the 4 bytes at w.
  BOOL ok = WaitOnAddress(reinterpret_cast<volatile VOID*>(w), &expected, sizeof(uint32_t), ms);
  if (!ok && GetLastError() == ERROR_TIMEOUT) return false;
  return true;  // woken, or the value differed: the caller re-checks
}

void word_wake_one(std::atomic<uint32_t>* w) noexcept {
  WakeByAddressSingle(reinterpret_cast<PVOID>(w));
}
void word_wake_all(std::atomic<uint32_t>* w) noexcept {
  WakeByAddressAll(reinterpret_cast<PVOID>(w));
}
const char* parker_backend() noexcept { return "WaitOnAddress"; }

}  // namespace weft

#endif  // WEFT_PARKER_USE_WINDOWS
