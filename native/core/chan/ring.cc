// ring.cc — the buffered flavour of Channel (channel.h): a bounded lock-free MPMC ring
// (Vyukov's array queue with per-slot stamps, as crossbeam-channel's array flavour). Closing
// sets the mark bit on the tail, so receivers still drain what is buffered.
#if defined(_WIN32)
#include "core/win32.h"  // GlobalMemoryStatusEx
#else
#include <unistd.h>  // sysconf(_SC_PHYS_PAGES): Linux (glibc, musl), macOS, the BSDs
#endif

#include <algorithm>
#include <new>

#include "core/chan/channel.h"

namespace weft {

namespace {
// Waiting for a peer that reserved a slot but has not published it yet: spin briefly, then
// yield (the peer may have been preempted, and threads can outnumber cores).
inline void backoff(int spins) {
  if (spins < 64) cpu_relax();
  else thread_yield();
}
}  // namespace

namespace {
// Half the physical memory (read once; 2^62 where the system does not say).
uint64_t max_ring_bytes() {
  static const uint64_t limit = [] {
#if defined(_WIN32)
    MEMORYSTATUSEX ms;
    ms.dwLength = sizeof(ms);
    if (!GlobalMemoryStatusEx(&ms) || ms.ullTotalPhys == 0) return uint64_t(1) << 62;
    return uint64_t(ms.ullTotalPhys) / 2;
#else
    long pages = sysconf(_SC_PHYS_PAGES);
    long size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || size <= 0) return uint64_t(1) << 62;
    return uint64_t(pages) * uint64_t(size) / 2;
#endif
  }();
  return limit;
}
}  // namespace

// Ring geometry and slots (buffered channels only; called by the constructor).
void Channel::init_ring() {
  // The JavaScript wrapper refuses larger capacities first (RangeError naming the limit).
  if (cap_ > abi::kMaxCapacity) throw std::bad_alloc();
  uint32_t p = 1;
  while (p < cap_ + 1) p <<= 1;  // cap_ < 2^30: p <= 2^30, one lap <= 2^31
  hdr_.capacity = cap_;
  hdr_.mark_bit = p;
  hdr_.one_lap = p << 1;
  // A ring larger than half the machine's physical memory is refused up front: Linux's
  // overcommit would grant it, and initialising every stamp would then touch all of it (minutes
  // of page faults, and the OOM killer for whoever is unlucky) for a capacity no program can
  // use. Refused the same way as a failed allocation (RangeError naming the capacity).
  if (uint64_t(cap_) * sizeof(Slot) > max_ring_bytes()) throw std::bad_alloc();
  // nothrow + our own std::bad_alloc: the same error either way, and it also works where the
  // throwing operator new aborts on failure instead (AddressSanitizer's).
  slots_.reset(new (std::nothrow) Slot[cap_]);
  if (!slots_) throw std::bad_alloc();
  if (elem_ == Elem::Structured && cap_ <= abi::kRingInlineMaxCapacity) {
    inline_.reset(new (std::nothrow) uint8_t[size_t(cap_) * abi::kRingInlineBytes]());
    if (!inline_) throw std::bad_alloc();
  }
  for (uint32_t i = 0; i < cap_; i++) {
    slots_[i].stamp.store(i, std::memory_order_relaxed);
    slots_[i].pad = 0;
    slots_[i].val.store(0, std::memory_order_relaxed);
  }
}

// An inline value (bits = (length << 1) | 1) of slot `index` as a new Message. Called between
// the head CAS that claimed the slot and the stamp store that frees it: the sender's bytes
// are visible (its release store of the stamp, our acquire load), and no sender can reuse the
// block yet.
uint64_t Channel::inline_to_message(uint32_t index, uint64_t bits) {
  size_t len = size_t(bits >> 1);
  if (len > abi::kRingInlineBytes || !inline_) std::abort();  // only JavaScript writes these
  const uint8_t* src = inline_.get() + size_t(index) * abi::kRingInlineBytes;
  auto* m = new Message();
  m->bytes.assign(src, src + len);
  return to_bits(m);
}

// ---- the lock-free ring ----------------------------------------------------------------------

Channel::Ring Channel::ring_push(uint64_t v) {
  uint32_t tail = hdr_.tail.load(std::memory_order_relaxed);
  for (int spins = 0;; spins++) {
    if (tail & hdr_.mark_bit) return Ring::kClosed;
    uint32_t index = tail & (hdr_.mark_bit - 1);
    uint32_t lap = tail & ~(hdr_.one_lap - 1);
    Slot& slot = slots_[index];
    // acquire: pairs with the receiver's release store that freed this slot.
    uint32_t stamp = slot.stamp.load(std::memory_order_acquire);
    if (tail == stamp) {
      uint32_t next = index + 1 < cap_ ? tail + 1 : lap + hdr_.one_lap;
      // seq_cst: ordered before our load of hdr_.recv_waiting in notify_after_push().
      if (hdr_.tail.compare_exchange_weak(tail, next, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
        slot.val.store(v, std::memory_order_relaxed);  // published by the stamp store below
        // release: the value is visible to the receiver that acquires this stamp.
        slot.stamp.store(tail + 1, std::memory_order_release);
        return Ring::kOk;
      }
    } else if (stamp + hdr_.one_lap == tail + 1) {
      // The slot still holds last lap's value: full, unless a receiver is mid-pop. The
      // seq_cst fence orders the stamp load before the head load (pairs with ring_pop's
      // head CAS); it publishes nothing (values travel with the stamps).
      std::atomic_thread_fence(std::memory_order_seq_cst);
      uint32_t head = hdr_.head.load(std::memory_order_relaxed);
      if (head + hdr_.one_lap == tail) return Ring::kEmptyOrFull;
      backoff(spins);
      tail = hdr_.tail.load(std::memory_order_relaxed);
    } else {
      // Another sender won this slot but has not published yet: wait, never skip it.
      backoff(spins);
      tail = hdr_.tail.load(std::memory_order_relaxed);
    }
  }
}

Channel::Ring Channel::ring_pop(uint64_t* out) {
  uint32_t head = hdr_.head.load(std::memory_order_relaxed);
  for (int spins = 0;; spins++) {
    uint32_t index = head & (hdr_.mark_bit - 1);
    uint32_t lap = head & ~(hdr_.one_lap - 1);
    Slot& slot = slots_[index];
    // acquire: pairs with the sender's release store of this stamp (the value is written).
    uint32_t stamp = slot.stamp.load(std::memory_order_acquire);
    if (head + 1 == stamp) {
      uint32_t next = index + 1 < cap_ ? head + 1 : lap + hdr_.one_lap;
      // seq_cst: ordered before our load of hdr_.send_waiting in notify_after_pop().
      if (hdr_.head.compare_exchange_weak(head, next, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
        *out = slot.val.load(std::memory_order_relaxed);  // ordered by the stamp load above
        // A value JavaScript queued inline (its bytes in this slot's block) becomes a native
        // message before the slot is released: native code downstream sees messages only.
        if ((*out & 1) != 0 && elem_ == Elem::Structured) *out = inline_to_message(index, *out);
        // release: our read of val happens before a sender reuses the slot next lap.
        slot.stamp.store(head + hdr_.one_lap, std::memory_order_release);
        return Ring::kOk;
      }
    } else if (stamp == head) {
      // Empty, unless a sender is mid-push: the fence orders the stamp load before the tail
      // load (pairs with ring_push's tail CAS, and with ring_close's fetch_or of the mark).
      std::atomic_thread_fence(std::memory_order_seq_cst);
      uint32_t tail = hdr_.tail.load(std::memory_order_relaxed);
      if ((tail & ~hdr_.mark_bit) == head) {
        return (tail & hdr_.mark_bit) ? Ring::kClosed : Ring::kEmptyOrFull;
      }
      backoff(spins);
      head = hdr_.head.load(std::memory_order_relaxed);
    } else {
      backoff(spins);  // a sender reserved this slot and has not published it yet
      head = hdr_.head.load(std::memory_order_relaxed);
    }
  }
}

// Reserves a run of k free slots with one CAS on tail, then fills them in order. Room is
// computed from a possibly stale head, which can only under-estimate it, so every reserved
// slot is free or about to be released by a receiver that already moved head past it.
size_t Channel::ring_push_many(const uint64_t* vals, size_t n) {
  uint32_t tail = hdr_.tail.load(std::memory_order_relaxed);
  for (;;) {
    if (tail & hdr_.mark_bit) return 0;
    uint32_t index = tail & (hdr_.mark_bit - 1);
    uint32_t lap = tail & ~(hdr_.one_lap - 1);
    // acquire: pairs with the receivers' head CAS; a stale head only under-estimates room.
    uint32_t head = hdr_.head.load(std::memory_order_acquire);
    uint64_t used = distance(head, tail);
    uint64_t k = std::min<uint64_t>({n, cap_ - used, cap_ - index});
    if (used > cap_ || k == 0) return 0;
    uint32_t next = index + k < cap_ ? tail + uint32_t(k) : lap + hdr_.one_lap;
    // seq_cst: ordered before the waiting-count load in the caller's notify, as in ring_push.
    if (!hdr_.tail.compare_exchange_weak(tail, next, std::memory_order_seq_cst,
                                     std::memory_order_relaxed))
      continue;
    for (uint32_t i = 0; i < k; i++) {
      Slot& slot = slots_[index + i];
      // acquire: the receiver that freed the slot finished reading it.
      for (int spins = 0; slot.stamp.load(std::memory_order_acquire) != tail + i; spins++)
        backoff(spins);
      slot.val.store(vals[i], std::memory_order_relaxed);  // published by the stamp store
      // release: publishes val to the receiver that acquires this stamp (as in ring_push).
      slot.stamp.store(tail + i + 1, std::memory_order_release);
    }
    return size_t(k);
  }
}

// Reserves a run of k published-or-reserved slots with one CAS on head, then reads them in
// order, waiting (never skipping) for a sender that reserved a slot but has not written it.
size_t Channel::ring_pop_many(uint64_t* out, size_t max) {
  uint32_t head = hdr_.head.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t index = head & (hdr_.mark_bit - 1);
    uint32_t lap = head & ~(hdr_.one_lap - 1);
    // acquire: pairs with the senders' tail CAS; the values themselves are published by the
    // per-slot stamps below, so a reserved-but-unwritten slot is waited for, never read.
    uint32_t tail = hdr_.tail.load(std::memory_order_acquire) & ~hdr_.mark_bit;
    uint64_t avail = distance(head, tail);
    uint64_t k = std::min<uint64_t>({max, avail, cap_ - index});
    if (avail > cap_ || k == 0) return 0;
    uint32_t next = index + k < cap_ ? head + uint32_t(k) : lap + hdr_.one_lap;
    // seq_cst: ordered before the waiting-count load in the caller's notify, as in ring_pop.
    if (!hdr_.head.compare_exchange_weak(head, next, std::memory_order_seq_cst,
                                     std::memory_order_relaxed))
      continue;
    for (uint32_t i = 0; i < k; i++) {
      Slot& slot = slots_[index + i];
      // acquire: pairs with the sender's release of the stamp (the value is written).
      for (int spins = 0; slot.stamp.load(std::memory_order_acquire) != head + i + 1; spins++)
        backoff(spins);
      out[i] = slot.val.load(std::memory_order_relaxed);  // ordered by the stamp load
      // release: our read of val happens before a sender reuses the slot next lap.
      slot.stamp.store(head + i + hdr_.one_lap, std::memory_order_release);
    }
    return size_t(k);
  }
}

size_t Channel::length() const {
  if (cap_ == 0) return 0;
  for (;;) {
    // A snapshot (diagnostics only): tail read twice around head, so the pair is consistent.
    uint32_t tail = hdr_.tail.load(std::memory_order_seq_cst);
    uint32_t head = hdr_.head.load(std::memory_order_seq_cst);
    if (hdr_.tail.load(std::memory_order_seq_cst) != tail) continue;
    uint32_t hix = head & (hdr_.mark_bit - 1);
    uint32_t tix = tail & (hdr_.mark_bit - 1);
    if (hix < tix) return tix - hix;
    if (hix > tix) return cap_ - hix + tix;
    return ((tail & ~hdr_.mark_bit) == head) ? 0 : cap_;
  }
}

bool Channel::ring_closed() const {
  // acquire: pairs with ring_close()'s seq_cst fetch_or of the mark bit.
  return (hdr_.tail.load(std::memory_order_acquire) & hdr_.mark_bit) != 0;
}

// ---- operations ------------------------------------------------------------------------------

Channel::Res Channel::ring_try_send(uint64_t v) {
  Ring r = ring_push(v);
  if (r == Ring::kOk) {
    notify_after_push();
    return Res::kOk;
  }
  return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
}

Channel::Res Channel::ring_try_recv(uint64_t* out) {
  Ring r = ring_pop(out);
  if (r == Ring::kOk) {
    notify_after_pop();
    return Res::kOk;
  }
  return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
}

Channel::Res Channel::ring_send_locked(uint64_t v, Waiter** wake) {
  Ring r = ring_push(v);
  if (r == Ring::kOk) {
    // seq_cst after ring_push's tail CAS: see hdr_.recv_waiting (channel.h).
    if (hdr_.recv_waiting.load(std::memory_order_seq_cst) != 0)
      notify_one_locked(recvq_, hdr_.recv_waiting, wake);
    return Res::kOk;
  }
  return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
}

Channel::Res Channel::ring_recv_locked(uint64_t* out, Waiter** wake) {
  Ring r = ring_pop(out);
  if (r == Ring::kOk) {
    // seq_cst after ring_pop's head CAS: see hdr_.recv_waiting (channel.h), mirrored.
    if (hdr_.send_waiting.load(std::memory_order_seq_cst) != 0)
      notify_one_locked(sendq_, hdr_.send_waiting, wake);
    return Res::kOk;
  }
  return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
}

bool Channel::ring_close() {
  // seq_cst: a sender's next tail CAS fails and sees the mark; receivers see it in ring_pop's
  // tail load (after the fence) and in ring_closed() (acquire).
  uint32_t prev = hdr_.tail.fetch_or(hdr_.mark_bit, std::memory_order_seq_cst);
  if (prev & hdr_.mark_bit) return false;
  std::lock_guard<std::mutex> g(mu_);
  // Waiters retry: receivers drain what is left, then see the channel closed.
  wake_all_locked(recvq_, hdr_.recv_waiting, Outcome::kNotify);
  wake_all_locked(sendq_, hdr_.send_waiting, Outcome::kNotify);
  return true;
}

}  // namespace weft
