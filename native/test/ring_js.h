// ring_js.h — JsRing: the JavaScript fast path of buffered channels (lib/chan/ring.ts) as C++,
// for the mirror tests (test_ring_js.cc: numeric values; test_ring_js_inline.cc: structured
// values in the slots' inline blocks), driven against native senders and receivers.
//
// JsRing is ring.ts step for step: every Atomics call becomes a seq_cst operation on the same
// word of the shared layout (abi.h: RingHeader, RingSlot, the owner words, the send record),
// the value a plain access in between, `Atomics.load(waiting) !== 0` then `chanNotify` becomes
// notify_receivers() / notify_senders(). A false / "nothing" answer hands the operation to the
// native blocking path, exactly as lib/chan/chan.ts does. If ring.ts changes, change this
// mirror with it.
#pragma once

#include "harness.h"

namespace wt {
namespace {

using weft::abi::RingHeader;
using weft::abi::RingSlot;

constexpr auto SC = std::memory_order_seq_cst;
constexpr int kTries = 8;  // ring.ts TRIES

struct JsRing {
  Channel* ch;
  RingHeader* w;
  RingSlot* s;
  std::atomic<uint32_t>* o;  // owner words (chanRing()[2]: mapping them allocates them)
  uint32_t cap, mark, one_lap, idx_mask, lap_mask;
  explicit JsRing(Channel* c)
      : ch(c), w(c->ring_header()), s(c->ring_slots()), o(c->ring_owners()), cap(w->capacity), mark(w->mark_bit),
        one_lap(w->one_lap), idx_mask(mark - 1), lap_mask(~(one_lap - 1)) {}

  // Atomics.compareExchange(s, owner, 0, id) === 0
  bool take_owner(uint32_t idx, uint32_t id) {
    uint32_t zero = 0;
    return o[idx].compare_exchange_strong(zero, id, SC, SC);
  }

  // Where a stopped sender stops (Worker.terminate() between two steps of trySend).
  enum class Stop { kNever, kAfterOwner, kAfterClaim, kAfterValue, kAfterStamp, kAfterLoss };

  // What a stopped sender's thread runs as its environment ends (send_record.cc), a little
  // later; then `rec` becomes a fresh thread's record. True if the stopped send counts as
  // sent: its position was claimed, and finish_send published the recorded value.
  bool end_stopped_sender(Rng& rng, Stop stop, weft::abi::SendRecord* rec) {
    for (int k = int(rng.below(3)); k > 0; k--) std::this_thread::yield();
    ch->finish_send(*rec);
    ch->notify_receivers();
    ch->notify_senders();
    *rec = weft::abi::SendRecord{};
    rec->id = Channel::new_send_id();
    return stop != Stop::kAfterOwner && stop != Stop::kAfterLoss;
  }

  // ring.ts trySend of a structured value whose `len` encoded bytes fit the slot's inline block:
  // the bytes go into the block, the slot value says (len << 1) | 1. The send record is written
  // as ring.ts does (the bytes copied into its block); `stop` as for try_send below.
  bool try_send_inline(const uint8_t* bytes, uint32_t len, weft::abi::SendRecord* rec,
                       Stop stop = Stop::kNever, bool* stopped = nullptr) {
    std::memcpy(rec->block, bytes, len);
    uint8_t* blocks = ch->ring_inline();
    return send_steps((uint64_t(len) << 1) | 1, rec, stop, stopped, [&](uint32_t idx) {
      write_block(blocks + size_t(idx) * weft::abi::kRingInlineBytes, bytes, len);
    });
  }

  // ring.ts tryRecv on a structured ring: a native message (bit 0 clear) is left to native
  // code; an inline value's bytes are copied out BEFORE the claim, and the slot is freed with
  // a CAS. With `die_after_claim`, the thread "is stopped" right after a successful claim
  // (Worker.terminate()): it keeps the value it read, and never frees the slot.
  bool try_recv_inline(std::vector<uint8_t>* out, bool die_after_claim = false) {
    const uint8_t* blocks = ch->ring_inline();
    uint32_t head = w->head.load(SC);
    for (int i = 0; i < kTries; i++) {
      uint32_t idx = head & idx_mask;
      uint32_t stamp = s[idx].stamp.load(SC);
      if (stamp == head + 1) {
        uint64_t v = s[idx].val.load(SC);  // Atomics.load of the low word
        if ((v & 1) == 0) return false;
        read_block(blocks + size_t(idx) * weft::abi::kRingInlineBytes, size_t(v >> 1), out);
        uint32_t seen = head;
        uint32_t next = idx + 1 < cap ? head + 1 : (head & lap_mask) + one_lap;
        if (w->head.compare_exchange_strong(seen, next, SC, SC)) {
          if (die_after_claim) return true;
          uint32_t want = head + 1;
          s[idx].stamp.compare_exchange_strong(want, head + one_lap, SC, SC);
          if (w->send_waiting.load(SC) != 0) ch->notify_senders();
          return true;
        }
        head = seen;
      } else if (stamp == head || stamp + one_lap == head + 1) {
        return false;
      } else {
        head = w->head.load(SC);
      }
    }
    return false;
  }

  // TypedArray.set into / out of a block, as relaxed 64-bit words (the C++ side's view of the
  // block; a copy taken before a failed claim may overlap a write and is discarded).
  static void write_block(uint8_t* block, const uint8_t* bytes, size_t len) {
    auto* words = reinterpret_cast<std::atomic<uint64_t>*>(block);
    for (size_t i = 0; i * 8 < len; i++) {
      uint64_t x = 0;
      std::memcpy(&x, bytes + i * 8, std::min<size_t>(8, len - i * 8));
      words[i].store(x, std::memory_order_relaxed);
    }
  }
  static void read_block(const uint8_t* block, size_t len, std::vector<uint8_t>* out) {
    auto* words = reinterpret_cast<const std::atomic<uint64_t>*>(block);
    out->resize(len);
    for (size_t i = 0; i * 8 < len; i++) {
      uint64_t x = words[i].load(std::memory_order_relaxed);
      std::memcpy(out->data() + i * 8, &x, std::min<size_t>(8, len - i * 8));
    }
  }

  // ring.ts trySend of a numeric value by the thread whose send record is `rec` (rec->id its
  // send id). With `stop`, the thread "is stopped" at that point of the attempt that gets that
  // far, and the call returns true with *stopped set: the caller then runs what the ring
  // header buffer's finalizer runs on that thread (finish_send), as the test decides when.
  bool try_send(uint64_t v, weft::abi::SendRecord* rec, Stop stop = Stop::kNever,
                bool* stopped = nullptr) {
    return send_steps(v, rec, stop, stopped, [](uint32_t) {});
  }

  // The steps of ring.ts trySend, one function for both kinds as there: the slot's value word
  // is `v`; `write_block(idx)` writes whatever else the claimed slot carries (inline bytes).
  template <class WriteBlock>
  bool send_steps(uint64_t v, weft::abi::SendRecord* rec, Stop stop, bool* stopped,
                  WriteBlock write_block) {
    rec->serial = w->serial;  // the record: plain stores, this thread's own
    rec->val = v;
    uint32_t tail = w->tail.load(SC);
    for (int i = 0; i < kTries; i++) {
      if (tail & mark) return false;
      uint32_t idx = tail & idx_mask;
      uint32_t stamp = s[idx].stamp.load(SC);
      if (stamp == tail) {
        uint32_t next = idx + 1 < cap ? tail + 1 : (tail & lap_mask) + one_lap;
        rec->pos = tail;
        if (!take_owner(idx, rec->id)) {
          tail = w->tail.load(SC);
          continue;
        }
        if (stop == Stop::kAfterOwner) return *stopped = true;
        uint32_t seen = tail;
        // Atomics.compareExchange returns what it saw; C++ writes it back into `seen`.
        if (w->tail.compare_exchange_strong(seen, next, SC, SC)) {
          if (stop == Stop::kAfterClaim) return *stopped = true;
          write_block(idx);
          s[idx].val.store(v, std::memory_order_relaxed);
          if (stop == Stop::kAfterValue) return *stopped = true;
          s[idx].stamp.store(tail + 1, SC);
          if (stop == Stop::kAfterStamp) return *stopped = true;
          o[idx].store(0, SC);
          if (w->recv_waiting.load(SC) != 0) ch->notify_receivers();
          return true;
        }
        if (stop == Stop::kAfterLoss) return *stopped = true;
        o[idx].store(0, SC);
        tail = seen;
      } else if (stamp + one_lap == tail + 1) {
        return false;
      } else {
        tail = w->tail.load(SC);
      }
    }
    return false;
  }

  // ring.ts tryRecv: the value is read BEFORE the claim, the slot freed with a CAS. With
  // `die_after_claim` the thread "is stopped" right after its claim (see try_recv_inline).
  bool try_recv(uint64_t* out, bool die_after_claim = false) {
    uint32_t head = w->head.load(SC);
    for (int i = 0; i < kTries; i++) {
      uint32_t idx = head & idx_mask;
      uint32_t stamp = s[idx].stamp.load(SC);
      if (stamp == head + 1) {
        uint64_t v = s[idx].val.load(std::memory_order_relaxed);
        uint32_t next = idx + 1 < cap ? head + 1 : (head & lap_mask) + one_lap;
        uint32_t seen = head;
        if (w->head.compare_exchange_strong(seen, next, SC, SC)) {
          *out = v;
          if (die_after_claim) return true;
          uint32_t want = head + 1;
          s[idx].stamp.compare_exchange_strong(want, head + one_lap, SC, SC);
          if (w->send_waiting.load(SC) != 0) ch->notify_senders();
          return true;
        }
        head = seen;
      } else if (stamp == head || stamp + one_lap == head + 1) {
        return false;
      } else {
        head = w->head.load(SC);
      }
    }
    return false;
  }
};

}  // namespace
}  // namespace wt
