// parker_portable.cc — the portable backend of the parking interface (parker.h): a parking lot,
// built from the C++ standard library only, so it compiles wherever std::mutex and
// std::condition_variable exist. Used where no address-wait primitive is known, and on demand
// (-DWEFT_PARKER_PORTABLE, gyp variable weft_parker=portable, env WEFT_PARKER=portable) so that it
// is tested on Linux too.
//
// A fixed table of buckets, each a mutex and an intrusive FIFO of sleepers; an address hashes to
// one bucket. A sleeper is a node on its own stack holding the address it waits on and its own
// condition variable, so a wake-one for address A never lands on a sleeper of another address B
// that shares A's bucket (with one condition variable per bucket it could, and A's wake-up would
// be lost). Nothing here ever dereferences a woken address: a stale wake (the word's owner has
// returned and its memory is reused) finds no node, or wakes a new sleeper spuriously, which the
// interface allows.
#include "core/park/backend.h"

#if defined(WEFT_PARKER_USE_PORTABLE)

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "core/park/parker.h"

namespace weft {

namespace {

struct Sleeper {
  const void* addr;
  std::condition_variable cv;
  bool woken = false;          // guarded by the bucket's mu: set by the waker that unlinked us
  Sleeper* next = nullptr;     // the bucket's list, guarded by its mu
  Sleeper* prev = nullptr;
  explicit Sleeper(const void* a) : addr(a) {}
};

// One cache line each, so that unrelated sleepers do not share a lock's line.
struct alignas(64) Bucket {
  std::mutex mu;
  Sleeper* head = nullptr;  // FIFO: wake-one takes the oldest sleeper of an address
  Sleeper* tail = nullptr;

  void push(Sleeper* s) {
    s->prev = tail;
    s->next = nullptr;
    if (tail != nullptr) tail->next = s;
    else head = s;
    tail = s;
  }
  void unlink(Sleeper* s) {
    if (s->prev != nullptr) s->prev->next = s->next;
    else head = s->next;
    if (s->next != nullptr) s->next->prev = s->prev;
    else tail = s->prev;
    s->next = s->prev = nullptr;
  }
};

constexpr size_t kBuckets = 256;  // a power of two

Bucket& bucket_for(const void* addr) {
  // Never destroyed: threads (the timer thread, detached workers) may still park or wake
  // while static destructors run at exit. Reachable through this pointer, so no leak report.
  static Bucket* const table = new Bucket[kBuckets];
  // Fibonacci hashing of the address (its low bits are alignment, always the same).
  uint64_t h = uint64_t(reinterpret_cast<uintptr_t>(addr)) * 0x9E3779B97F4A7C15ull;
  return table[h >> (64 - 8)];
}
static_assert(kBuckets == 256, "bucket_for takes the top 8 bits of the hash");

}  // namespace

bool word_wait(std::atomic<uint32_t>* w, uint32_t expected, uint64_t deadline_ns) noexcept {
  Bucket& b = bucket_for(w);
  std::unique_lock<std::mutex> lk(b.mu);
  // The value is compared under the bucket lock, and every waker takes that lock after its
  // store to *w (mutex release/acquire): either the waker's lock comes first, and this load
  // sees its store (then we return at once), or ours does, and our node is queued before the
  // waker looks for it. acquire: pairs with nothing by itself (callers re-load their word with
  // acquire); it just cannot be weaker than what the futex backends give.
  if (w->load(std::memory_order_acquire) != expected) return true;
  Sleeper me(w);
  b.push(&me);
  bool timed_out = false;
  while (!me.woken) {
    if (deadline_ns == 0) {
      me.cv.wait(lk);
    } else {
      // now_ns() is steady_clock: the deadline converts without any clock arithmetic.
      auto until = std::chrono::steady_clock::time_point(
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
              std::chrono::nanoseconds(deadline_ns)));
      if (me.cv.wait_until(lk, until) == std::cv_status::timeout && !me.woken) {
        timed_out = true;
        break;
      }
    }
  }
  // A waker unlinks the node it wakes (under mu, held here again); a timed-out node is still
  // queued and must leave before its stack frame does.
  if (!me.woken) b.unlink(&me);
  return !timed_out;
}

namespace {
// Under b.mu: unlinks the sleepers of addr (all, or the oldest) and signals them. The node
// belongs to its sleeper's stack; once `woken` is set and mu released, it may be gone, so it
// is signalled while mu is held (the sleeper cannot leave wait() before reacquiring mu).
void wake(const void* addr, bool all) {
  Bucket& b = bucket_for(addr);
  std::lock_guard<std::mutex> g(b.mu);
  for (Sleeper* s = b.head; s != nullptr;) {
    Sleeper* next = s->next;
    if (s->addr == addr) {
      b.unlink(s);
      s->woken = true;
      s->cv.notify_one();
      if (!all) return;
    }
    s = next;
  }
}
}  // namespace

void word_wake_one(std::atomic<uint32_t>* w) noexcept { wake(w, false); }
void word_wake_all(std::atomic<uint32_t>* w) noexcept { wake(w, true); }
const char* parker_backend() noexcept { return "portable"; }

}  // namespace weft

#endif  // WEFT_PARKER_USE_PORTABLE
