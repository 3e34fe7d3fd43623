// win32.h — <windows.h> as weft includes it, in one place: lean (no winsock, no min/max
// macros) and declaring the Windows 8 API (WaitOnAddress, which Node's own build may not ask
// for). Includes nothing elsewhere.
#pragma once

#if defined(_WIN32)
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0602
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0602
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif
