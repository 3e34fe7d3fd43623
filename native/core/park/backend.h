// backend.h — which parking backend this build uses (see parker.h). Included by the parker_*.cc
// files only: each compiles to an empty translation unit unless it is the one selected, so every
// build lists all of them and no build system needs per-platform source lists.
//
//   WEFT_PARKER_PORTABLE defined   -> portable (mutex + condition variable parking lot)
//   Linux with SYS_futex           -> futex
//   macOS                          -> darwin (os_sync_wait_on_address or __ulock_wait2)
//   Windows                        -> windows (WaitOnAddress)
//   anything else                  -> portable
#pragma once

#if defined(__linux__) && !defined(WEFT_PARKER_PORTABLE)
#include <sys/syscall.h>  // SYS_futex (absent on 32-bit ports that only have futex_time64)
#endif

#if defined(WEFT_PARKER_PORTABLE)
#define WEFT_PARKER_USE_PORTABLE 1
#elif defined(__linux__) && defined(SYS_futex)
#define WEFT_PARKER_USE_FUTEX 1
#elif defined(__APPLE__)
#define WEFT_PARKER_USE_DARWIN 1
#elif defined(_WIN32)
#define WEFT_PARKER_USE_WINDOWS 1
#else
#define WEFT_PARKER_USE_PORTABLE 1
#endif
