// channel.h — Go channels in native memory, shared by every thread.
//
// Buffered channels keep their values in a bounded lock-free MPMC ring (Vyukov's array queue
// with per-slot stamps, as crossbeam-channel's array flavour does): one CAS per operation and
// no lock while the channel is neither full nor empty. Positions and stamps are 32-bit words laid
// out in abi.h (RingHeader, RingSlot), which JavaScript maps and runs the same fast path on
// (lib/chan/ring.ts), entering native code only to park or to wake. Closing sets a mark bit on the tail so
// receivers still drain what is buffered. When an operation must wait it registers a CaseRec
// in the channel's waiter queue (under `mu_`) and parks; the opposite side *notifies* one
// waiter after it made progress, and the woken waiter retries its operation.
//
// Unbuffered channels are a rendezvous under `mu_` (Go's runtime/chan.go): a sender that finds
// a waiting receiver claims it and hands the value over directly; otherwise it queues itself
// with the value and parks until a receiver takes it.
//
// One Channel interface, one flavour per file (as crossbeam-channel's flavors/): channel.cc
// (construction, waiter queues, notification, dispatch), ring.cc (buffered; ring_many.cc, its
// batch operations; ring_peek.cc, its reads that take nothing), rendezvous.cc (unbuffered).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/message.h"
#include "core/park/parker.h"
#include "core/shared.h"

namespace weft {

// Intrusive FIFO of CaseRecs, guarded by the owning channel's mu_.
struct RecQueue {
  CaseRec* head = nullptr;
  CaseRec* tail = nullptr;
  void push_back(CaseRec* r);
  void push_front(CaseRec* r);
  CaseRec* pop_front();
  void remove(CaseRec* r);
  bool empty() const { return head == nullptr; }
};

class Channel final : public Shared {
 public:
  enum class Res : uint8_t { kOk, kWouldBlock, kClosed };
  using Slot = abi::RingSlot;  // native/core/abi.h: JavaScript reads the same layout

  Channel(uint32_t capacity, Elem elem);
  ~Channel() override;

  Elem elem() const { return elem_; }
  uint32_t capacity() const { return cap_; }
  bool buffered() const { return cap_ != 0; }
  size_t length() const;
  // Hints for a spinning lone send/receive (buffered; unordered, see ring_peek.cc): whether
  // the run of `run` slots from the tail is free; how many values from the head are
  // published, counting on from `from` (from 0 if the head moved from *at, which is updated).
  bool run_free_hint(size_t run) const;
  size_t published_hint(size_t from, size_t upto, uint32_t* at) const;
  bool closed() const;

  // Channels weft owns (a timer's or ticker's c, a context's done channel) are receive-only
  // for users: the JS wrappers refuse send/close on them (chanInfo reports the tag when a
  // thread wraps the channel). A plain field, written once by the owner's constructor before
  // any pointer to the channel leaves that thread; another thread can only reach the channel
  // through a hand-off that is itself a release/acquire pair (the registry mutex in
  // share()/attach(), a channel's slot stamp or lock for a message, the owner's own
  // publication), so the write happens-before every read of owner().
  using Owner = abi::Owner;  // native/core/abi.h
  void set_owner(Owner o) { owner_ = o; }
  Owner owner() const { return owner_; }

  // Non-blocking operations. try_send moves ownership of v into the channel on kOk only.
  // try_recv reports kClosed only once the channel is closed and drained.
  Res try_send(uint64_t v);
  Res try_recv(uint64_t* out);
  // Batch forms (numeric channels): move up to n values with one reservation of a run of
  // slots. Return how many moved; *res tells why fewer did (kWouldBlock or kClosed).
  size_t try_send_many(const uint64_t* vals, size_t n, Res* res);
  size_t try_recv_many(uint64_t* out, size_t max, Res* res);
  // Close; false if it was already closed (nothing changes then).
  bool close();

  // ---- the JavaScript fast path (lib/chan/ring.ts) -----------------------------------------
  // The ring's memory, which JavaScript maps and operates on with the same atomic steps as
  // ring_push/ring_pop (buffered channels only: an unbuffered one has no ring and no header).
  abi::RingHeader* ring_header() { return hdr_.get(); }  // null when unbuffered
  Slot* ring_slots() { return slots_.get(); }
  // A structured ring's inline blocks (capacity x abi::kRingInlineBytes), or null.
  uint8_t* ring_inline() { return reinterpret_cast<uint8_t*>(inline_.get()); }
  // The slots' owner words (abi.h: kRingOwnerBytes), allocated on the first call (when a
  // thread maps the ring: only JavaScript senders need them to be finishable); null if that
  // allocation failed.
  std::atomic<uint32_t>* ring_owners();
  // 64-bit words of one inline block.
  static constexpr size_t kInlineWords = abi::kRingInlineBytes / 8;
  // After JavaScript pushed (popped) a value itself and read a non-zero waiter count: wake one
  // waiting receiver (sender), exactly as a native push (pop) does.
  void notify_receivers() { notify_after_push(); }
  void notify_senders() { notify_after_pop(); }
  // A thread's JavaScript send stopped (Worker.terminate()) while it held a slot's owner word
  // (abi.h: kSendRecord*, kRingSlotOwnerByteOffset): publish the recorded value if the
  // position was claimed, and give the word back. Called on that thread, after its JavaScript
  // stopped, by the ring header buffer's finalizer; a no-op for any other record.
  void finish_send(const abi::SendRecord& rec);
  // A fresh send id for a thread's send record (nonzero, never kNativeSender).
  static uint32_t new_send_id();
  // The owner word native single-value senders take: they always finish what they claim.
  static constexpr uint32_t kNativeSender = ~0u;

  // ---- used by the waiting machinery (select.cc), queue lock held --------------------
  void lock() { mu_.lock(); }
  void unlock() { mu_.unlock(); }
  // A peer these claim is not completed under the lock (it would wake only to block on the
  // lock we hold): it is returned in *wake for the caller to complete() after unlocking.
  Res try_send_locked(uint64_t v, Waiter** wake);
  Res try_recv_locked(uint64_t* out, Waiter** wake);
  void enqueue_locked(CaseRec* r);
  void dequeue_locked(CaseRec* r);

  // A notification that its waiter will not use (it gave up, or took another case) is passed
  // on to the next waiter of the same direction, so no wake-up is lost.
  void forward_notify(bool to_senders);
  // A value handed to a receiver whose thread is exiting goes back into the channel: to
  // another waiting receiver, or parked as a "ghost sender" that the next receive takes.
  void give_back(uint64_t v);

 private:
  enum class Ring : uint8_t { kOk, kEmptyOrFull, kClosed };
  // ---- the buffered flavour (ring.cc) ----
  void init_ring();
  Res ring_try_send(uint64_t v);
  Res ring_try_recv(uint64_t* out);
  Res ring_send_locked(uint64_t v, Waiter** wake);
  Res ring_recv_locked(uint64_t* out, Waiter** wake);
  bool ring_close();
  bool ring_closed() const;
  Ring ring_push(uint64_t v);
  Ring ring_pop(uint64_t* out);
  void copy_inline(uint32_t index, uint64_t* buf) const;
  bool free_for_claimer(Slot& slot, uint32_t p);
  static void backoff(int spins);
  uint64_t inline_to_message(const uint64_t* buf, uint64_t bits);
  size_t ring_push_many(const uint64_t* vals, size_t n);
  size_t ring_pop_many(uint64_t* out, size_t max);
  uint32_t pos_after(uint32_t p, uint64_t k, size_t* index) const;
  // Slots from position a forward to position b, modulo 2^32 (abi.h: kMaxCapacity); a
  // "negative" distance (b read before a moved past it) comes out larger than the capacity.
  uint64_t distance(uint32_t a, uint32_t b) const {
    uint32_t lap_mask = ~(hdr_->one_lap - 1);
    uint64_t laps = uint32_t((b & lap_mask) - (a & lap_mask)) / hdr_->one_lap;
    int64_t idx = int64_t(b & (hdr_->mark_bit - 1)) - int64_t(a & (hdr_->mark_bit - 1));
    return uint64_t(int64_t(laps * cap_) + idx);
  }
  // ---- the unbuffered flavour (rendezvous.cc) ----
  Res rv_try_send(uint64_t v);
  Res rv_try_recv(uint64_t* out);
  Res rv_send_locked(uint64_t v, Waiter** wake);
  Res rv_recv_locked(uint64_t* out, Waiter** wake);
  bool rv_close();
  void rv_give_back_locked(uint64_t v, Waiter** wake);
  Waiter* rv_hand_to_receiver_locked(uint64_t v);
  // ---- shared by both (channel.cc) ----
  void notify_one_locked(RecQueue& q, std::atomic<uint32_t>& count, Waiter** wake);
  void wake_all_locked(RecQueue& q, std::atomic<uint32_t>& count, Outcome how);
  void notify_after_push();
  void notify_after_pop();

  const uint32_t cap_;
  const Elem elem_;
  std::unique_ptr<Slot[]> slots_;
  // Structured rings of at most kRingInlineMaxCapacity slots: one inline block per slot, for
  // values JavaScript queues without a native message (abi.h: kRingSlotValueByteOffset).
  // Words, accessed relaxed in C++ (a copy taken before a failed claim may overlap a write).
  std::unique_ptr<std::atomic<uint64_t>[]> inline_;
  // Owner words (ring_owners()): null until a thread maps the ring; set once (CAS), freed by
  // the destructor.
  std::atomic<std::atomic<uint32_t>*> owners_{nullptr};
  // Positions, waiter counts and geometry, laid out for JavaScript too (abi.h: RingHeader).
  // Buffered channels only (allocated by init_ring, 128-byte aligned: head and tail each on
  // lines of their own); null for an unbuffered channel, which has no ring and keeps its
  // waiter counts in rv_recv_waiting_ / rv_send_waiting_ instead. Apart from the channel
  // object, so an idle unbuffered channel does not carry 384 bytes it never uses (bench 11.10a).
  // The waiter counts (recv_waiting() / send_waiting()) are written under mu_ and read without
  // it by the lock-free fast paths (here, in rendezvous.cc and in lib/chan/ring.ts). seq_cst on
  // both sides: a pusher's tail CAS then its load of recv_waiting, against a receiver's
  // increment of recv_waiting then its re-check of the ring, cannot both miss each other (and
  // the same for senders, mirrored).
  std::unique_ptr<abi::RingHeader> hdr_;
  std::atomic<uint32_t> rv_recv_waiting_{0};
  std::atomic<uint32_t> rv_send_waiting_{0};
  std::atomic<uint32_t>& recv_waiting() { return cap_ != 0 ? hdr_->recv_waiting : rv_recv_waiting_; }
  std::atomic<uint32_t>& send_waiting() { return cap_ != 0 ? hdr_->send_waiting : rv_send_waiting_; }

  std::mutex mu_;
  RecQueue recvq_;  // guarded by mu_
  RecQueue sendq_;  // guarded by mu_
  // Unbuffered only (buffered channels keep it as the tail's mark bit). Written under mu_;
  // read without it by fast paths, which re-check under the lock before deciding to wait.
  std::atomic<bool> closed_{false};
  Owner owner_ = Owner::None;  // written before publication only (see set_owner)
  // Batch receivers (ring_pop_many) between their head CAS and their last free, which free
  // with plain stores: while it is nonzero nobody frees a claimed slot on its claimer's behalf
  // (free_for_claimer). Native code only; JavaScript receivers free with CASes and are not
  // counted. (Sits in the padding after the flags above: no bytes added to a channel.)
  std::atomic<uint32_t> batch_freeing_{0};
};

}  // namespace weft
