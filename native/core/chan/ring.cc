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

// Waiting for a peer that reserved a slot but has not published it yet: spin briefly, then
// yield (the peer may have been preempted, and threads can outnumber cores).
void Channel::backoff(int spins) {
  if (spins < 64) cpu_relax();
  else thread_yield();
}

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
  // alignas(128) type: the aligned operator new (nothrow: see the slots below).
  hdr_.reset(new (std::nothrow) abi::RingHeader());
  if (!hdr_) throw std::bad_alloc();
  hdr_->capacity = cap_;
  hdr_->mark_bit = p;
  hdr_->one_lap = p << 1;
  // A plain word, like the geometry: written before the channel leaves this thread.
  static std::atomic<uint32_t> serials{0};
  do hdr_->serial = serials.fetch_add(1, std::memory_order_relaxed) + 1;
  while (hdr_->serial == 0);
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
    inline_.reset(new (std::nothrow) std::atomic<uint64_t>[size_t(cap_) * kInlineWords]);
    if (!inline_) throw std::bad_alloc();
    for (size_t i = 0; i < size_t(cap_) * kInlineWords; i++) inline_[i].store(0, std::memory_order_relaxed);
  }
  for (uint32_t i = 0; i < cap_; i++) {
    slots_[i].stamp.store(i, std::memory_order_relaxed);
    slots_[i].pad = 0;
    slots_[i].val.store(0, std::memory_order_relaxed);
  }
}

// A receiver reads a slot's value BEFORE its head CAS claims it (the value for position p is
// stable from the stamp p + 1 until someone frees the slot, and nobody frees it before head
// moves past p). So once head is past p, the slot's content is no longer needed by anyone,
// and freeing it (stamp p + 1 -> p + one lap) is housekeeping that any thread may do: the
// claimer does it right after its CAS, and a sender that finds the slot still holding a value
// below head does it on the claimer's behalf (ring_push, ring_push_many). That matters for
// JavaScript receivers (lib/chan/ring.ts): Worker.terminate() can stop one between its CAS
// and its release, and the ring must not stay stuck on that slot. A single-value receiver,
// whose slot someone else may free, frees with a CAS, never a plain store: if it came late, a
// plain store could overwrite the stamp of the next lap's value. A batch receiver
// (ring_pop_many, native code, which always finishes) frees its whole run with plain stores
// instead -- a locked instruction per slot cost ~12 ns of its ~21 per value (perf) -- and is
// counted in batch_freeing_ from before its claim to after its last free; while it is
// counted, nobody frees on anyone's behalf (free_for_claimer).

// Frees slot `slot` of position p (its stamp p + 1) for the next lap, if nobody did yet.
// release: our read of the value (before the head CAS) happens before a sender of the next
// lap writes the slot (its acquire load of the stamp).
static inline void free_slot(abi::RingSlot& slot, uint32_t p, uint32_t one_lap) {
  uint32_t want = p + 1;
  slot.stamp.compare_exchange_strong(want, p + one_lap, std::memory_order_release,
                                     std::memory_order_relaxed);
}

// A slot of position p whose value was claimed (head is past p: the caller saw that with a
// load of head, or a stamp, that the acquire fence below makes synchronize with the claim)
// but not freed: free it for its claimer and return true, or return false when batch
// receivers are mid-free (the caller waits and looks again: that receiver frees it soon).
// The claimer, if it was a batch receiver, counted itself before its head CAS (seq_cst), so
// having seen the claim we see the count -- or its decrement (release, after the receiver's
// stamp stores), and then the CAS below finds the slot freed already and changes nothing.
bool Channel::free_for_claimer(Slot& slot, uint32_t p) {
  std::atomic_thread_fence(std::memory_order_acquire);
  if (batch_freeing_.load(std::memory_order_acquire) != 0) return false;
  free_slot(slot, p, hdr_->one_lap);
  return true;
}

// Copies slot `index`'s inline block (kRingInlineBytes) into buf: relaxed word loads, since a
// copy taken before a head CAS that then fails may overlap the next lap's write of the block
// (the copy is then discarded).
void Channel::copy_inline(uint32_t index, uint64_t* buf) const {
  const std::atomic<uint64_t>* src = inline_.get() + size_t(index) * kInlineWords;
  for (size_t i = 0; i < kInlineWords; i++) buf[i] = src[i].load(std::memory_order_relaxed);
}

// An inline value (bits = (length << 1) | 1) whose block was copied into buf, as a Message.
uint64_t Channel::inline_to_message(const uint64_t* buf, uint64_t bits) {
  size_t len = size_t(bits >> 1);
  if (len > abi::kRingInlineBytes || !inline_) std::abort();  // only JavaScript writes these
  auto* m = new Message();
  const auto* bytes = reinterpret_cast<const uint8_t*>(buf);
  m->bytes.assign(bytes, bytes + len);
  return to_bits(m);
}

// ---- the lock-free ring ----------------------------------------------------------------------

// The owner words (abi.h: kRingOwnerBytes). Every single-value sender -- ring_push here,
// lib/chan/ring.ts trySend, the C++ mirror in native/test/ring_js.h -- takes its slot's word (CAS
// 0 -> its id, acquire) before its tail CAS and gives it back (store 0, release) after its
// stamp store, or after a failed tail CAS. So while a thread holds the word of slot i with
// position p recorded, p can have been claimed only by that thread, or by a native sender
// that took no word and is counted in hdr_->batching from before its claim to after its last
// publish: a batch (ring_push_many), or a single send that found no words allocated yet.
// finish_send relies on exactly this. The acquire/release pair also means the next holder
// sees the stamp the last holder published.
std::atomic<uint32_t>* Channel::ring_owners() {
  // acquire: pairs with the release CAS below (the zeroed words are visible).
  std::atomic<uint32_t>* o = owners_.load(std::memory_order_acquire);
  if (o != nullptr || cap_ == 0) return o;
  auto* fresh = new (std::nothrow) std::atomic<uint32_t>[cap_];
  if (fresh == nullptr) return nullptr;
  for (uint32_t i = 0; i < cap_; i++) fresh[i].store(0, std::memory_order_relaxed);
  // acq_rel: publishes the zeroed words (release); on failure, reads the winner's (acquire).
  if (owners_.compare_exchange_strong(o, fresh, std::memory_order_acq_rel,
                                      std::memory_order_acquire))
    return fresh;
  delete[] fresh;
  return o;
}

Channel::Ring Channel::ring_push(uint64_t v) {
  uint32_t tail = hdr_->tail.load(std::memory_order_relaxed);
  for (int spins = 0;; spins++) {
    if (tail & hdr_->mark_bit) return Ring::kClosed;
    uint32_t index = tail & (hdr_->mark_bit - 1);
    uint32_t lap = tail & ~(hdr_->one_lap - 1);
    Slot& slot = slots_[index];
    // acquire: pairs with the release CAS (free_slot) that freed this slot.
    uint32_t stamp = slot.stamp.load(std::memory_order_acquire);
    if (tail == stamp) {
      // acquire: pairs with ring_owners()' release CAS. Without words (no thread mapped the
      // ring yet), this send is counted instead (seq_cst, as ring_push_many's).
      std::atomic<uint32_t>* owners = owners_.load(std::memory_order_acquire);
      std::atomic<uint32_t>* word = owners != nullptr ? &owners[index] : nullptr;
      if (word != nullptr) {
        uint32_t free_word = 0;
        // acquire: pairs with the last holder's release store of 0 (see above).
        if (!word->compare_exchange_strong(free_word, kNativeSender, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
          backoff(spins);  // another sender is claiming this slot
          tail = hdr_->tail.load(std::memory_order_relaxed);
          continue;
        }
      } else {
        hdr_->batching.fetch_add(1, std::memory_order_seq_cst);
      }
      uint32_t next = index + 1 < cap_ ? tail + 1 : lap + hdr_->one_lap;
      // seq_cst: ordered before our load of hdr_->recv_waiting in notify_after_push().
      bool won = hdr_->tail.compare_exchange_strong(tail, next, std::memory_order_seq_cst,
                                                   std::memory_order_relaxed);
      if (won) {
        slot.val.store(v, std::memory_order_relaxed);  // published by the stamp store below
        // release: the value is visible to the receiver that acquires this stamp.
        slot.stamp.store(tail + 1, std::memory_order_release);
      }
      // release: the next holder of the word (or finish_send, reading the count) sees the
      // stamp above. After a lost CAS, the word is simply given back: look again.
      if (word != nullptr) word->store(0, std::memory_order_release);
      else hdr_->batching.fetch_sub(1, std::memory_order_release);
      if (won) return Ring::kOk;
    } else if (stamp + hdr_->one_lap == tail + 1) {
      // The slot still holds last lap's value (position tail - one lap): full if head is
      // still there. The seq_cst fence orders the stamp load before the head load (pairs with
      // ring_pop's head CAS); it publishes nothing (values travel with the stamps).
      std::atomic_thread_fence(std::memory_order_seq_cst);
      uint32_t head = hdr_->head.load(std::memory_order_relaxed);
      if (head + hdr_->one_lap == tail) return Ring::kEmptyOrFull;
      // head moved past it: that value was read and claimed; free the slot for its claimer
      // (which may have been stopped before doing so), or wait for a batch receiver to, then
      // look again.
      if (!free_for_claimer(slot, tail - hdr_->one_lap)) backoff(spins);
      tail = hdr_->tail.load(std::memory_order_relaxed);
    } else {
      // Another sender won this slot but has not published yet: wait, never skip it.
      backoff(spins);
      tail = hdr_->tail.load(std::memory_order_relaxed);
    }
  }
}

Channel::Ring Channel::ring_pop(uint64_t* out) {
  uint32_t head = hdr_->head.load(std::memory_order_relaxed);
  uint64_t buf[kInlineWords];
  for (int spins = 0;; spins++) {
    uint32_t index = head & (hdr_->mark_bit - 1);
    uint32_t lap = head & ~(hdr_->one_lap - 1);
    Slot& slot = slots_[index];
    // acquire: pairs with the sender's release store of this stamp (the value is written).
    uint32_t stamp = slot.stamp.load(std::memory_order_acquire);
    if (head + 1 == stamp) {
      uint32_t next = index + 1 < cap_ ? head + 1 : lap + hdr_->one_lap;
      // Read before claiming (see free_slot): if the CAS below succeeds, this is the value of
      // position head, which nobody could free before head moved.
      uint64_t v = slot.val.load(std::memory_order_relaxed);
      bool inline_value = (v & 1) != 0 && elem_ == Elem::Structured;
      if (inline_value) copy_inline(index, buf);
      // seq_cst: ordered before our load of hdr_->send_waiting in notify_after_pop().
      if (hdr_->head.compare_exchange_weak(head, next, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
        free_slot(slot, head, hdr_->one_lap);
        // A value JavaScript queued inline becomes a native message: native code downstream
        // sees messages only.
        *out = inline_value ? inline_to_message(buf, v) : v;
        return Ring::kOk;
      }
    } else if (stamp == head || stamp + hdr_->one_lap == head + 1) {
      // Nothing published for head yet: the slot is free for this lap (stamp == head), or still
      // holds last lap's value, claimed by a receiver that did not free it (head is past it:
      // free it now, see free_slot). Empty, unless a sender is mid-push: the fence orders the
      // stamp load before the tail load (pairs with ring_push's tail CAS, and with
      // ring_close's fetch_or of the mark).
      if (stamp != head) free_for_claimer(slot, head - hdr_->one_lap);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      uint32_t tail = hdr_->tail.load(std::memory_order_relaxed);
      if ((tail & ~hdr_->mark_bit) == head) {
        return (tail & hdr_->mark_bit) ? Ring::kClosed : Ring::kEmptyOrFull;
      }
      backoff(spins);
      head = hdr_->head.load(std::memory_order_relaxed);
    } else {
      backoff(spins);  // a sender reserved this slot and has not published it yet
      head = hdr_->head.load(std::memory_order_relaxed);
    }
  }
}

uint32_t Channel::new_send_id() {
  static std::atomic<uint32_t> ids{0};
  for (;;) {
    uint32_t id = ids.fetch_add(1, std::memory_order_relaxed) + 1;
    if (id != 0 && id != kNativeSender) return id;
  }
}

// A JavaScript sender writes its record (ring serial, position p, value) before it takes the
// owner word of p's slot, and gives the word back only after publishing (or after losing p).
// If it was stopped in between, it still holds the word, and:
// - stamp != p: it published (or p's slot moved on without it): nothing to do;
// - tail still at p: its tail CAS did not happen: nothing to do;
// - else p was claimed, by it or by a counted native sender (see ring_owners): once none is
//   between its claim and its last publish, a stamp still at p means the claim was ours, and
//   the recorded value is published as the send would have.
void Channel::finish_send(const abi::SendRecord& rec) {
  if (cap_ == 0 || rec.serial != hdr_->serial || rec.id == 0) return;
  uint32_t pos = rec.pos;
  uint32_t index = pos & (hdr_->mark_bit - 1);
  std::atomic<uint32_t>* owners = owners_.load(std::memory_order_acquire);
  if (index >= cap_ || owners == nullptr) return;
  Slot& slot = slots_[index];
  std::atomic<uint32_t>& word = owners[index];
  // Relaxed is enough: only this thread ever stores its own id in the word.
  if (word.load(std::memory_order_relaxed) != rec.id) return;
  for (int spins = 0;; spins++) {
    // acquire: pairs with a publisher's release store of the stamp.
    if (slot.stamp.load(std::memory_order_acquire) != pos) break;
    // seq_cst (both): ordered after our own earlier tail CAS, and the batch count read after
    // the tail (pairs with ring_push_many's seq_cst increment before its claim).
    if ((hdr_->tail.load(std::memory_order_seq_cst) & ~hdr_->mark_bit) == pos) break;
    if (hdr_->batching.load(std::memory_order_seq_cst) != 0) {
      backoff(spins);
      continue;
    }
    // No counted sender in flight: one that claimed p published it (its release decrement
    // pairs with the load above), so a stamp still at p is our own claim.
    if (slot.stamp.load(std::memory_order_acquire) != pos) break;
    // A structured value JavaScript sends is always inline (ring.ts), its bytes recorded.
    if (elem_ == Elem::Structured) {
      if ((rec.val & 1) == 0 || (rec.val >> 1) > abi::kRingInlineBytes || !inline_) std::abort();
      std::atomic<uint64_t>* dst = inline_.get() + size_t(index) * kInlineWords;
      for (size_t i = 0; i < kInlineWords; i++) dst[i].store(rec.block[i], std::memory_order_relaxed);
    }
    slot.val.store(rec.val, std::memory_order_relaxed);
    // release: the value is visible to the receiver that acquires this stamp (as ring_push).
    slot.stamp.store(pos + 1, std::memory_order_release);
    break;
  }
  word.store(0, std::memory_order_release);
}

bool Channel::ring_closed() const {
  // acquire: pairs with ring_close()'s seq_cst fetch_or of the mark bit.
  return (hdr_->tail.load(std::memory_order_acquire) & hdr_->mark_bit) != 0;
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
    // seq_cst after ring_push's tail CAS: see hdr_->recv_waiting (channel.h).
    if (hdr_->recv_waiting.load(std::memory_order_seq_cst) != 0)
      notify_one_locked(recvq_, hdr_->recv_waiting, wake);
    return Res::kOk;
  }
  return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
}

Channel::Res Channel::ring_recv_locked(uint64_t* out, Waiter** wake) {
  Ring r = ring_pop(out);
  if (r == Ring::kOk) {
    // seq_cst after ring_pop's head CAS: see hdr_->recv_waiting (channel.h), mirrored.
    if (hdr_->send_waiting.load(std::memory_order_seq_cst) != 0)
      notify_one_locked(sendq_, hdr_->send_waiting, wake);
    return Res::kOk;
  }
  return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
}

bool Channel::ring_close() {
  // seq_cst: a sender's next tail CAS fails and sees the mark; receivers see it in ring_pop's
  // tail load (after the fence) and in ring_closed() (acquire).
  uint32_t prev = hdr_->tail.fetch_or(hdr_->mark_bit, std::memory_order_seq_cst);
  if (prev & hdr_->mark_bit) return false;
  std::lock_guard<std::mutex> g(mu_);
  // Waiters retry: receivers drain what is left, then see the channel closed.
  wake_all_locked(recvq_, hdr_->recv_waiting, Outcome::kNotify);
  wake_all_locked(sendq_, hdr_->send_waiting, Outcome::kNotify);
  return true;
}

}  // namespace weft
