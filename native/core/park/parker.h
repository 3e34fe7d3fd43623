// parker.h — the parking interface (clock, address waits), and the Waiter records that blocked operations park on.
//
// A blocked operation (a plain send/recv, or a select with many cases) owns one Waiter and
// one CaseRec per case. The CaseRecs are linked into the waiter queues of the channels
// involved (under each channel's queue lock). Another thread that can complete one of the
// cases *claims* the waiter with a single CAS on `state` (kWaiting -> case index); exactly
// one claim can succeed, which is what makes select take exactly one case. The claimer fills
// in the claimed CaseRec (value, result) and then completes the waiter: for a synchronous
// waiter it stores `word` (release) and wakes it (word_wake_one) if it went to sleep; for an async
// waiter it hands the Waiter to its thread's Inbox, which wakes that thread's event loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace weft {

class Channel;
class Inbox;

// ---- clock and address waits (the parking interface) --------------------------------------
//
// The only place the core touches the operating system's thread parking. parker.cc builds
// park() / complete() / await_completion() on the three word_* calls below; exactly one backend
// file defines them, chosen at compile time (park/backend.h):
//   parker_futex.cc     Linux futex(2)
//   parker_darwin.cc    macOS os_sync_wait_on_address (14.4+), else __ulock_wait2
//   parker_windows.cc   Windows WaitOnAddress / WakeByAddress*
//   parker_portable.cc  a parking lot of mutex + condition variable buckets (std:: only);
//                       forced with -DWEFT_PARKER_PORTABLE (gyp: weft_parker=portable)
// Every other file of the core goes through this interface (and std::) only.

// steady_clock in ns: the clock of every deadline in the core (CLOCK_MONOTONIC on Linux; the
// timer thread's condition variable waits on the same clock).
uint64_t now_ns();
// Wait while *w == expected, until the absolute now_ns() deadline (0 = none). Returns false
// on timeout. Spurious returns are possible (signals, a wake meant for an earlier user of the
// address, a shared bucket): callers re-check their word every time.
bool word_wait(std::atomic<uint32_t>* w, uint32_t expected, uint64_t deadline_ns) noexcept;
// Wake one / every thread in word_wait on w. Harmless when nobody waits. The caller changes
// *w first; the backend orders its wake after that store (see each backend).
void word_wake_one(std::atomic<uint32_t>* w) noexcept;
void word_wake_all(std::atomic<uint32_t>* w) noexcept;
// The backends hand the word's address to the OS as a plain 32-bit integer.
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                  std::atomic<uint32_t>::is_always_lock_free,
              "address waits need a lock-free atomic with the layout of uint32_t");
// The backend's name ("futex", "os_sync", "ulock", "WaitOnAddress", "portable"): for
// reports and tests. os_sync vs ulock is decided at run time on macOS.
const char* parker_backend() noexcept;
// A pause for spin loops (PAUSE / YIELD instruction; nothing where there is none).
void cpu_relax();
// Give up the rest of the time slice (std::this_thread::yield).
void thread_yield();

// ---- waiter records ----------------------------------------------------------------------

constexpr int32_t kWaiting = -1;
constexpr int32_t kCanceled = -2;

// What the claimer did to a CaseRec before completing its waiter.
enum class Outcome : uint8_t {
  kNone = 0,
  kHandoff,  // rendezvous: the value moved (recv: into rec->val; send: out of rec->val)
  kNotify,   // buffered channel: the case may be ready now; retry it
  kClosed,   // the channel was closed
};

struct Waiter;

struct CaseRec {
  Waiter* w = nullptr;   // nullptr: a ghost sender holding a value for an exited receiver
  Channel* ch = nullptr;
  int32_t index = 0;     // index of this case in its select
  bool is_send = false;
  bool queued = false;   // guarded by ch's queue lock
  Outcome outcome = Outcome::kNone;  // written by the claimer before completion
  uint64_t val = 0;      // send: the payload offered; recv: the payload received
  CaseRec* prev = nullptr;  // queue links, guarded by ch's queue lock
  CaseRec* next = nullptr;
};

struct Waiter {
  // kWaiting, kCanceled, or the index of the case that claimed the waiter. acq_rel CAS: the
  // winner's later writes to its CaseRec are published by the release in complete().
  std::atomic<int32_t> state{kWaiting};
  // Sync parking word: 0 = not completed (owner spinning), 2 = owner asleep in word_wait,
  // 1 = completed. The claimer stores 1 with release after filling the CaseRec; the owner
  // reads it with acquire, so the CaseRec contents are visible to it.
  std::atomic<uint32_t> word{0};
  bool async = false;
  std::shared_ptr<Inbox> inbox;  // async waiters: where completion is delivered
  Waiter* inbox_next = nullptr;  // link in the inbox's list while delivered, guarded by its lock
  CaseRec* cases = nullptr;
  int32_t ncases = 0;

  // Claim for case rec (called with rec->ch's queue lock held, rec queued).
  bool try_claim(const CaseRec* rec) {
    int32_t e = kWaiting;
    return state.compare_exchange_strong(e, rec->index, std::memory_order_acq_rel,
                                         std::memory_order_acquire);
  }
  // Claim for a sync-primitive waiter (no case index).
  bool try_claim_index(int32_t index) {
    int32_t e = kWaiting;
    return state.compare_exchange_strong(e, index, std::memory_order_acq_rel,
                                         std::memory_order_acquire);
  }
  // Owner gives up; false if a claim won the race (then a completion is on its way).
  bool try_cancel() {
    int32_t e = kWaiting;
    return state.compare_exchange_strong(e, kCanceled, std::memory_order_acq_rel,
                                         std::memory_order_acquire);
  }
  void reset() {
    state.store(kWaiting, std::memory_order_relaxed);
    word.store(0, std::memory_order_relaxed);
  }
};

// Called by the claimer after it has filled the claimed CaseRec and unlinked it.
void complete(Waiter* w);

// Sync owner: wait until completed or until the deadline / stop request. Returns true once
// completed (word == 1, acquire). `should_stop` is polled every slice (thread teardown).
// `spin_ns` (optional, per thread) is how long to poll before yielding and sleeping; park()
// adapts it: it doubles after a wake-up that arrived while polling; after one that did not,
// it becomes twice the observed wait (capped) if that wait was within kSpinMaxNs, else it
// halves. A thread
// whose peer answers within microseconds (on another core, or a main thread's event loop)
// keeps polling long enough to catch it; one whose peer sleeps or shares its core yields.
using StopProbe = bool (*)(void* arg);
bool park(Waiter* w, uint64_t deadline_ns, StopProbe probe, void* probe_arg,
          uint64_t* spin_ns = nullptr);
constexpr uint64_t kSpinMinNs = 500;
constexpr uint64_t kSpinMaxNs = 100'000;
// Spin only (used after a failed cancel: the completion is known to be coming).
void await_completion(Waiter* w);

}  // namespace weft
