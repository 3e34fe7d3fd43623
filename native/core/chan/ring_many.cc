// ring_many.cc — the batch operations of the buffered flavour (ring.cc): a run of slots moves
// with one CAS of the tail or head (sendMany/recvMany, native/node/bind_many.cc). The per-slot
// protocol is ring.cc's; what differs is how a run waits for its slots and how a receiver
// frees them.
#include <algorithm>
#include <thread>  // std::this_thread::yield (WEFT_STRESS_HOOKS)

#if defined(_MSC_VER) && defined(_M_X64)
#include <intrin.h>  // _m_prefetchw
#endif

#include "core/chan/channel.h"

namespace weft {

namespace {
// How long ring_push_many waits for its run's last slot to be freed (pauses, ~10-40 us).
constexpr int kRunWaitSpins = 1024;

// Asks for p's cache line in exclusive state (x86 PREFETCHW, Arm PRFM PSTL1KEEP). A hint:
// it orders nothing, and a CPU without the instruction ignores it.
inline void prefetch_for_write(const void* p) {
#if defined(_MSC_VER) && defined(_M_X64)
  _m_prefetchw(const_cast<void*>(p));
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  __asm__ __volatile__("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1, 3);
#else
  (void)p;
#endif
}
// How far ahead a batch sender asks for its slots' lines: 16 slots, four 64-byte lines.
constexpr uint64_t kWriteAhead = 16;
}  // namespace

// Reserves a run of k free slots with one CAS on tail, then fills them in order. Room is
// computed from a possibly stale head, which can only under-estimate it, so every reserved
// slot is free, or holds a value of the last lap that a receiver already claimed (head moved
// past it): that one is freed here on its claimer's behalf (ring.cc: free_for_claimer).
size_t Channel::ring_push_many(const uint64_t* vals, size_t n) {
  uint32_t tail = hdr_->tail.load(std::memory_order_relaxed);
  for (;;) {
    if (tail & hdr_->mark_bit) return 0;
    uint32_t index = tail & (hdr_->mark_bit - 1);
    uint32_t lap = tail & ~(hdr_->one_lap - 1);
    // acquire: pairs with the receivers' head CAS; a stale head only under-estimates room.
    uint32_t head = hdr_->head.load(std::memory_order_acquire);
    uint64_t used = distance(head, tail);
    uint64_t k = std::min<uint64_t>({n, cap_ - used, cap_ - index});
    if (used > cap_ || k == 0) return 0;
    uint32_t next = index + k < cap_ ? tail + uint32_t(k) : lap + hdr_->one_lap;
    // Room comes from head, which a receiver moves (its claim) before it frees the slots one
    // by one: a batch claimed right then would fill each slot just as it is freed, taking
    // every line back and forth with the receiver, once per slot instead of once per line
    // (measured in a two-thread C++ model of this ring, batches of 256 in a cap-1024 ring:
    // 55-60 ns per value; waiting first for the run's last slot, 19-26). So wait a little for
    // the last slot of the run to be freed (stamp = its position) while it still holds last
    // lap's claimed value (stamp = position + 1 - one lap); in any other state, or after the
    // bound (a receiver stopped between its claim and its frees), go on: the per-slot loop
    // below decides, and frees on a stopped receiver's behalf. Relaxed: a hint only; the
    // per-slot acquire loads below are what order our writes after the receiver's reads.
    {
      const Slot& last = slots_[index + k - 1];
      uint32_t want = tail + uint32_t(k) - 1;
      for (int spins = 0; spins < kRunWaitSpins; spins++) {
        uint32_t stamp = last.stamp.load(std::memory_order_relaxed);
        if (stamp == want || stamp + hdr_->one_lap != want + 1) break;
        cpu_relax();
      }
    }
    // A batch claims its run without the slots' owner words: it is counted instead, from
    // before its tail CAS until after its last publish (see ring_owners). seq_cst:
    // finish_send's load of the count comes after its own tail load, so it sees this
    // increment if it saw our claim.
    hdr_->batching.fetch_add(1, std::memory_order_seq_cst);
    // seq_cst: ordered before the waiting-count load in the caller's notify, as in ring_push.
    if (!hdr_->tail.compare_exchange_weak(tail, next, std::memory_order_seq_cst,
                                     std::memory_order_relaxed)) {
      hdr_->batching.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
    // The run-wait above saw the run freed, so asking for its lines now takes them from a
    // receiver that is done with them: the stamp load and the two stores per slot below then
    // find the line already ours (a hint; the acquire loads still decide).
    for (uint64_t i = 0; i < std::min<uint64_t>(k, kWriteAhead); i += 4)
      prefetch_for_write(&slots_[index + i]);
    for (uint32_t i = 0; i < k; i++) {
      if (((index + i) & 3) == 0 && i + kWriteAhead < k)
        prefetch_for_write(&slots_[index + i + kWriteAhead]);
      Slot& slot = slots_[index + i];
      uint32_t pos = tail + i;
      // acquire: the receiver that freed the slot finished reading it.
      for (int spins = 0;; spins++) {
        uint32_t stamp = slot.stamp.load(std::memory_order_acquire);
        if (stamp == pos) break;
        // Last lap's value, claimed (head was past it when we computed room) but not freed.
        if (stamp + hdr_->one_lap != pos + 1 || !free_for_claimer(slot, pos - hdr_->one_lap))
          backoff(spins);
      }
      slot.val.store(vals[i], std::memory_order_relaxed);  // published by the stamp store
      // release: publishes val to the receiver that acquires this stamp (as in ring_push).
      slot.stamp.store(pos + 1, std::memory_order_release);
    }
    // release: pairs with finish_send's load; every stamp above is published before it.
    hdr_->batching.fetch_sub(1, std::memory_order_release);
    return size_t(k);
  }
}

// Claims the run of values at head that senders reserved (at most max, not past the end of the
// ring's array) with one CAS, reading them first (ring.cc, above free_slot): a reserved slot
// not yet published is waited for, never skipped (native senders and the main thread's
// JavaScript always publish what they reserve). Then frees their slots with plain stores,
// counted in batch_freeing_ (see free_for_claimer).
size_t Channel::ring_pop_many(uint64_t* out, size_t max) {
  uint32_t head = hdr_->head.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t index = head & (hdr_->mark_bit - 1);
    uint32_t lap = head & ~(hdr_->one_lap - 1);
    // acquire: pairs with the senders' tail CAS; the values themselves are published by the
    // per-slot stamps below.
    uint32_t tail = hdr_->tail.load(std::memory_order_acquire) & ~hdr_->mark_bit;
    uint64_t avail = distance(head, tail);
    uint64_t k = std::min<uint64_t>({max, avail, cap_ - index});
    if (avail > cap_ || k == 0) return 0;
    bool moved = false;
    for (uint64_t i = 0; i < k && !moved; i++) {
      Slot& slot = slots_[index + i];
      uint32_t want = head + uint32_t(i) + 1;
      // acquire: pairs with the sender's release of the stamp (the value is written).
      for (int spins = 0; slot.stamp.load(std::memory_order_acquire) != want; spins++) {
        // Another receiver took these positions meanwhile: start again from the new head.
        if (hdr_->head.load(std::memory_order_relaxed) != head) {
          moved = true;
          break;
        }
        backoff(spins);
      }
      if (!moved) out[i] = slot.val.load(std::memory_order_relaxed);
    }
    if (moved) {
      head = hdr_->head.load(std::memory_order_relaxed);
      continue;
    }
    uint32_t next = index + k < cap_ ? head + uint32_t(k) : lap + hdr_->one_lap;
    // Counted before the claim (seq_cst, sequenced before the head CAS): whoever sees the
    // claim sees the count (free_for_claimer).
    batch_freeing_.fetch_add(1, std::memory_order_seq_cst);
    // seq_cst: ordered before the waiting-count load in the caller's notify, as in ring_pop.
    if (!hdr_->head.compare_exchange_weak(head, next, std::memory_order_seq_cst,
                                     std::memory_order_relaxed)) {
      // Relaxed: we claimed nothing and wrote nothing another thread could need to see.
      batch_freeing_.fetch_sub(1, std::memory_order_relaxed);
      continue;
    }
#if defined(WEFT_STRESS_HOOKS)
    // The native stress tests (native/test/run.sh) stall here now and then, as a preempted
    // receiver would: senders then meet claimed, unfreed slots while we are counted.
    {
      static thread_local uint32_t calls = 0;
      if (++calls % 4 == 0) std::this_thread::yield();
    }
#endif
    // Plain stores: nobody else writes these stamps now -- no sender until they are free, no
    // receiver (head is past them), and nobody frees them for us while we are counted.
    // release: our reads of the values happen before a next-lap sender's writes (its acquire
    // load of the stamp), as free_slot's CAS.
    for (uint32_t i = 0; i < k; i++)
      slots_[index + i].stamp.store(head + i + hdr_->one_lap, std::memory_order_release);
    // release: pairs with free_for_claimer's acquire load (the stores above are visible).
    batch_freeing_.fetch_sub(1, std::memory_order_release);
    return size_t(k);
  }
}

}  // namespace weft
