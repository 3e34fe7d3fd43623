// ring_peek.cc — reads of a buffered channel's ring (ring.cc) that take nothing: its length,
// and the hints a spinning lone send or receive polls (select.cc select_block).
#include "core/chan/channel.h"

namespace weft {

// The two hints below steer a spinning lone send or receive (select.cc select_block): when to
// try. They read slot stamps, not the head and tail words: a sender's tail CAS and a receiver's
// head CAS come once per value, and a peer polling those words takes their lines away each
// time (measured: await select on main fed by two workers spinning on room, 289-299 ns per
// value polling head, 225-227 polling a stamp). A stamp's line is written once per value of
// its slot, four slots to a line. All loads are relaxed: a hint decides nothing, select_try's
// acquire stamp loads and seq_cst CASes do; a stale or torn hint costs one look, or the wait
// until the spin ends.

// Position of the slot `k` places past position p (a lap boundary crossed at cap_).
uint32_t Channel::pos_after(uint32_t p, uint64_t k, size_t* index) const {
  uint32_t lap = p & ~(hdr_->one_lap - 1);
  uint64_t j = uint64_t(p & (hdr_->mark_bit - 1)) + k;
  if (j < cap_) {
    *index = size_t(j);
    return lap + uint32_t(j);
  }
  *index = size_t(j - cap_);
  return lap + hdr_->one_lap + uint32_t(j - cap_);
}

// Whether the run of `run` slots from the tail is free: the stamp of its last slot says that
// slot's position (its last-lap value was read and freed). A closed ring answers true, so the
// caller's try reports the close.
bool Channel::run_free_hint(size_t run) const {
  uint32_t tail = hdr_->tail.load(std::memory_order_relaxed);
  if (tail & hdr_->mark_bit) return true;
  size_t index;
  uint32_t pos = pos_after(tail, run - 1, &index);
  return slots_[index].stamp.load(std::memory_order_relaxed) == pos;
}

// How many values from the head are published (stamp = position + 1), counting on from
// `from` (already seen at the last look) up to `upto`. *at keeps the head of that look: when
// the head moved, counting starts again from 0.
size_t Channel::published_hint(size_t from, size_t upto, uint32_t* at) const {
  uint32_t head = hdr_->head.load(std::memory_order_relaxed);
  if (head != *at) {
    *at = head;
    from = 0;
  }
  size_t k = from;
  for (; k < upto; k++) {
    size_t index;
    uint32_t pos = pos_after(head, k, &index);
    if (slots_[index].stamp.load(std::memory_order_relaxed) != pos + 1) break;
  }
  return k;
}

size_t Channel::length() const {
  if (cap_ == 0) return 0;
  for (;;) {
    // A snapshot (diagnostics only): tail read twice around head, so the pair is consistent.
    uint32_t tail = hdr_->tail.load(std::memory_order_seq_cst);
    uint32_t head = hdr_->head.load(std::memory_order_seq_cst);
    if (hdr_->tail.load(std::memory_order_seq_cst) != tail) continue;
    uint32_t hix = head & (hdr_->mark_bit - 1);
    uint32_t tix = tail & (hdr_->mark_bit - 1);
    if (hix < tix) return tix - hix;
    if (hix > tix) return cap_ - hix + tix;
    return ((tail & ~hdr_->mark_bit) == head) ? 0 : cap_;
  }
}

}  // namespace weft
