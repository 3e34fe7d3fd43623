// channel.cc — see channel.h.
#include "core/chan/channel.h"

#include <unistd.h>

#include <sched.h>

#include <algorithm>
#include <new>

namespace weft {

namespace {
// Waiting for a peer that reserved a slot but has not published it yet: spin briefly, then
// yield (the peer may have been preempted, and threads can outnumber cores).
inline void backoff(int spins) {
  if (spins < 64) cpu_relax();
  else sched_yield();
}
}  // namespace

// ---- RecQueue ------------------------------------------------------------------------------

void RecQueue::push_back(CaseRec* r) {
  r->next = nullptr;
  r->prev = tail;
  if (tail) tail->next = r; else head = r;
  tail = r;
  r->queued = true;
}

void RecQueue::push_front(CaseRec* r) {
  r->prev = nullptr;
  r->next = head;
  if (head) head->prev = r; else tail = r;
  head = r;
  r->queued = true;
}

void RecQueue::remove(CaseRec* r) {
  if (r->prev) r->prev->next = r->next; else head = r->next;
  if (r->next) r->next->prev = r->prev; else tail = r->prev;
  r->prev = r->next = nullptr;
  r->queued = false;
}

CaseRec* RecQueue::pop_front() {
  CaseRec* r = head;
  if (r) remove(r);
  return r;
}

// ---- construction --------------------------------------------------------------------------

namespace {
// Half the physical memory (read once; 2^62 where the system does not say).
uint64_t max_ring_bytes() {
  static const uint64_t limit = [] {
    long pages = sysconf(_SC_PHYS_PAGES);
    long size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || size <= 0) return uint64_t(1) << 62;
    return uint64_t(pages) * uint64_t(size) / 2;
  }();
  return limit;
}
}  // namespace

Channel::Channel(uint32_t capacity, Elem elem)
    : Shared(Kind::Channel), cap_(capacity), elem_(elem) {
  if (cap_ == 0) return;
  uint64_t p = 1;
  while (p < uint64_t(cap_) + 1) p <<= 1;
  mark_bit_ = p;
  one_lap_ = p << 1;
  // A ring larger than half the machine's physical memory is refused up front: Linux's
  // overcommit would grant it, and initialising every stamp would then touch all of it (minutes
  // of page faults, and the OOM killer for whoever is unlucky) for a capacity no program can
  // use. Refused the same way as a failed allocation (RangeError naming the capacity).
  if (uint64_t(cap_) * sizeof(Slot) > max_ring_bytes()) throw std::bad_alloc();
  // nothrow + our own std::bad_alloc: the same error either way, and it also works where the
  // throwing operator new aborts on failure instead (AddressSanitizer's).
  slots_.reset(new (std::nothrow) Slot[cap_]);
  if (!slots_) throw std::bad_alloc();
  for (uint32_t i = 0; i < cap_; i++) {
    slots_[i].stamp.store(i, std::memory_order_relaxed);
    slots_[i].val = 0;
  }
}

Channel::~Channel() {
  // No waiter can be queued: every queued CaseRec's owner holds a reference (sync callers
  // through their handle on the stack, async waiters explicitly). Only ghosts may remain.
  if (cap_ != 0) {
    uint64_t v;
    while (ring_pop(&v) == Ring::kOk) drop_value(elem_, v);
  }
  while (CaseRec* r = sendq_.pop_front()) {
    if (r->w == nullptr) {
      drop_value(elem_, r->val);
      delete r;
    }
  }
}

// ---- the lock-free ring ----------------------------------------------------------------------

Channel::Ring Channel::ring_push(uint64_t v) {
  uint64_t tail = tail_.load(std::memory_order_relaxed);
  for (int spins = 0;; spins++) {
    if (tail & mark_bit_) return Ring::kClosed;
    uint64_t index = tail & (mark_bit_ - 1);
    uint64_t lap = tail & ~(one_lap_ - 1);
    Slot& slot = slots_[index];
    // acquire: pairs with the receiver's release store that freed this slot.
    uint64_t stamp = slot.stamp.load(std::memory_order_acquire);
    if (tail == stamp) {
      uint64_t next = index + 1 < cap_ ? tail + 1 : lap + one_lap_;
      // seq_cst: ordered before our load of recv_waiting_ in notify_after_push().
      if (tail_.compare_exchange_weak(tail, next, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
        slot.val = v;
        // release: the value is visible to the receiver that acquires this stamp.
        slot.stamp.store(tail + 1, std::memory_order_release);
        return Ring::kOk;
      }
    } else if (stamp + one_lap_ == tail + 1) {
      // The slot still holds last lap's value: full, unless a receiver is mid-pop.
      std::atomic_thread_fence(std::memory_order_seq_cst);
      uint64_t head = head_.load(std::memory_order_relaxed);
      if (head + one_lap_ == tail) return Ring::kEmptyOrFull;
      backoff(spins);
      tail = tail_.load(std::memory_order_relaxed);
    } else {
      // Another sender won this slot but has not published yet: wait, never skip it.
      backoff(spins);
      tail = tail_.load(std::memory_order_relaxed);
    }
  }
}

Channel::Ring Channel::ring_pop(uint64_t* out) {
  uint64_t head = head_.load(std::memory_order_relaxed);
  for (int spins = 0;; spins++) {
    uint64_t index = head & (mark_bit_ - 1);
    uint64_t lap = head & ~(one_lap_ - 1);
    Slot& slot = slots_[index];
    // acquire: pairs with the sender's release store of this stamp (the value is written).
    uint64_t stamp = slot.stamp.load(std::memory_order_acquire);
    if (head + 1 == stamp) {
      uint64_t next = index + 1 < cap_ ? head + 1 : lap + one_lap_;
      if (head_.compare_exchange_weak(head, next, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
        *out = slot.val;
        // release: our read of val happens before a sender reuses the slot next lap.
        slot.stamp.store(head + one_lap_, std::memory_order_release);
        return Ring::kOk;
      }
    } else if (stamp == head) {
      std::atomic_thread_fence(std::memory_order_seq_cst);
      uint64_t tail = tail_.load(std::memory_order_relaxed);
      if ((tail & ~mark_bit_) == head) {
        return (tail & mark_bit_) ? Ring::kClosed : Ring::kEmptyOrFull;
      }
      backoff(spins);
      head = head_.load(std::memory_order_relaxed);
    } else {
      backoff(spins);  // a sender reserved this slot and has not published it yet
      head = head_.load(std::memory_order_relaxed);
    }
  }
}

// Reserves a run of k free slots with one CAS on tail, then fills them in order. Room is
// computed from a possibly stale head, which can only under-estimate it, so every reserved
// slot is free or about to be released by a receiver that already moved head past it.
size_t Channel::ring_push_many(const uint64_t* vals, size_t n) {
  uint64_t tail = tail_.load(std::memory_order_relaxed);
  for (;;) {
    if (tail & mark_bit_) return 0;
    uint64_t index = tail & (mark_bit_ - 1);
    uint64_t lap = tail & ~(one_lap_ - 1);
    uint64_t head = head_.load(std::memory_order_acquire);
    uint64_t used = pos_of(tail) - pos_of(head);
    uint64_t k = std::min<uint64_t>({n, cap_ - used, cap_ - index});
    if (used > cap_ || k == 0) return 0;
    uint64_t next = index + k < cap_ ? tail + k : lap + one_lap_;
    // seq_cst: ordered before the waiting-count load in the caller's notify, as in ring_push.
    if (!tail_.compare_exchange_weak(tail, next, std::memory_order_seq_cst,
                                     std::memory_order_relaxed))
      continue;
    for (uint64_t i = 0; i < k; i++) {
      Slot& slot = slots_[index + i];
      // acquire: the receiver that freed the slot finished reading it.
      for (int spins = 0; slot.stamp.load(std::memory_order_acquire) != tail + i; spins++)
        backoff(spins);
      slot.val = vals[i];
      slot.stamp.store(tail + i + 1, std::memory_order_release);
    }
    return size_t(k);
  }
}

// Reserves a run of k published-or-reserved slots with one CAS on head, then reads them in
// order, waiting (never skipping) for a sender that reserved a slot but has not written it.
size_t Channel::ring_pop_many(uint64_t* out, size_t max) {
  uint64_t head = head_.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t index = head & (mark_bit_ - 1);
    uint64_t lap = head & ~(one_lap_ - 1);
    uint64_t tail = tail_.load(std::memory_order_acquire) & ~mark_bit_;
    uint64_t avail = pos_of(tail) - pos_of(head);
    uint64_t k = std::min<uint64_t>({max, avail, cap_ - index});
    if (avail > cap_ || k == 0) return 0;
    uint64_t next = index + k < cap_ ? head + k : lap + one_lap_;
    if (!head_.compare_exchange_weak(head, next, std::memory_order_seq_cst,
                                     std::memory_order_relaxed))
      continue;
    for (uint64_t i = 0; i < k; i++) {
      Slot& slot = slots_[index + i];
      // acquire: pairs with the sender's release of the stamp (the value is written).
      for (int spins = 0; slot.stamp.load(std::memory_order_acquire) != head + i + 1; spins++)
        backoff(spins);
      out[i] = slot.val;
      slot.stamp.store(head + i + one_lap_, std::memory_order_release);
    }
    return size_t(k);
  }
}

size_t Channel::try_send_many(const uint64_t* vals, size_t n, Res* res) {
  size_t done = 0;
  *res = Res::kOk;
  if (cap_ != 0) done = ring_push_many(vals, n);
  if (done > 0) {
    for (size_t i = 0; i < done && recv_waiting_.load(std::memory_order_seq_cst) != 0; i++)
      notify_after_push();
    return done;
  }
  // Nothing reserved in bulk (full, closed, unbuffered, or a race): one value the usual way.
  if (n == 0) return 0;
  *res = try_send(vals[0]);
  return *res == Res::kOk ? 1 : 0;
}

size_t Channel::try_recv_many(uint64_t* out, size_t max, Res* res) {
  size_t done = 0;
  *res = Res::kOk;
  if (cap_ != 0) done = ring_pop_many(out, max);
  if (done > 0) {
    for (size_t i = 0; i < done && send_waiting_.load(std::memory_order_seq_cst) != 0; i++)
      notify_after_pop();
    return done;
  }
  if (max == 0) return 0;
  *res = try_recv(out);
  return *res == Res::kOk ? 1 : 0;
}

size_t Channel::length() const {
  if (cap_ == 0) return 0;
  for (;;) {
    uint64_t tail = tail_.load(std::memory_order_seq_cst);
    uint64_t head = head_.load(std::memory_order_seq_cst);
    if (tail_.load(std::memory_order_seq_cst) != tail) continue;
    uint64_t hix = head & (mark_bit_ - 1);
    uint64_t tix = tail & (mark_bit_ - 1);
    if (hix < tix) return tix - hix;
    if (hix > tix) return cap_ - hix + tix;
    return ((tail & ~mark_bit_) == head) ? 0 : cap_;
  }
}

bool Channel::closed() const {
  if (cap_ == 0) return closed_.load(std::memory_order_acquire);
  return (tail_.load(std::memory_order_acquire) & mark_bit_) != 0;
}

// ---- notification ----------------------------------------------------------------------------

void Channel::notify_one_locked(RecQueue& q, std::atomic<uint32_t>& count, Waiter** wake) {
  while (CaseRec* r = q.pop_front()) {
    count.fetch_sub(1, std::memory_order_seq_cst);
    // A rec whose waiter was already claimed elsewhere (select) or canceled is stale: its
    // owner will find it unlinked (queued == false) and skip it.
    if (r->w->try_claim(r)) {
      r->outcome = Outcome::kNotify;
      *wake = r->w;
      return;
    }
  }
}

void Channel::wake_all_locked(RecQueue& q, std::atomic<uint32_t>& count, Outcome how) {
  CaseRec* r = q.head;
  while (r != nullptr) {
    CaseRec* next = r->next;
    if (r->w != nullptr) {  // ghosts stay: they are values, not waiters
      q.remove(r);
      count.fetch_sub(1, std::memory_order_seq_cst);
      if (r->w->try_claim(r)) {
        r->outcome = how;
        complete(r->w);
      }
    }
    r = next;
  }
}

void Channel::notify_after_push() {
  // seq_cst load: see the comment on recv_waiting_.
  if (recv_waiting_.load(std::memory_order_seq_cst) == 0) return;
  Waiter* wake = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    notify_one_locked(recvq_, recv_waiting_, &wake);
  }
  if (wake != nullptr) complete(wake);
}

void Channel::notify_after_pop() {
  if (send_waiting_.load(std::memory_order_seq_cst) == 0) return;
  Waiter* wake = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    notify_one_locked(sendq_, send_waiting_, &wake);
  }
  if (wake != nullptr) complete(wake);
}

void Channel::forward_notify(bool to_senders) {
  Waiter* wake = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (to_senders) notify_one_locked(sendq_, send_waiting_, &wake);
    else notify_one_locked(recvq_, recv_waiting_, &wake);
  }
  if (wake != nullptr) complete(wake);
}

// ---- operations ------------------------------------------------------------------------------

Channel::Res Channel::try_send(uint64_t v) {
  if (cap_ != 0) {
    Ring r = ring_push(v);
    if (r == Ring::kOk) {
      notify_after_push();
      return Res::kOk;
    }
    return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
  }
  // Unbuffered fast path: nobody waiting to receive and not closed means we would block.
  // Racy by design; blocking callers re-check under the lock after registering.
  if (recv_waiting_.load(std::memory_order_seq_cst) == 0 &&
      !closed_.load(std::memory_order_acquire))
    return Res::kWouldBlock;
  Waiter* wake = nullptr;
  Res r;
  {
    std::lock_guard<std::mutex> g(mu_);
    r = try_send_locked(v, &wake);
  }
  if (wake != nullptr) complete(wake);
  return r;
}

Channel::Res Channel::try_recv(uint64_t* out) {
  if (cap_ != 0) {
    Ring r = ring_pop(out);
    if (r == Ring::kOk) {
      notify_after_pop();
      return Res::kOk;
    }
    return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
  }
  if (send_waiting_.load(std::memory_order_seq_cst) == 0 &&
      !closed_.load(std::memory_order_acquire))
    return Res::kWouldBlock;
  Waiter* wake = nullptr;
  Res r;
  {
    std::lock_guard<std::mutex> g(mu_);
    r = try_recv_locked(out, &wake);
  }
  if (wake != nullptr) complete(wake);
  return r;
}

Channel::Res Channel::try_send_locked(uint64_t v, Waiter** wake) {
  if (cap_ != 0) {
    Ring r = ring_push(v);
    if (r == Ring::kOk) {
      if (recv_waiting_.load(std::memory_order_seq_cst) != 0)
        notify_one_locked(recvq_, recv_waiting_, wake);
      return Res::kOk;
    }
    return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
  }
  if (closed_.load(std::memory_order_relaxed)) return Res::kClosed;
  while (CaseRec* r = recvq_.pop_front()) {
    recv_waiting_.fetch_sub(1, std::memory_order_seq_cst);
    if (r->w->try_claim(r)) {
      r->val = v;
      r->outcome = Outcome::kHandoff;
      *wake = r->w;
      return Res::kOk;
    }
  }
  return Res::kWouldBlock;
}

Channel::Res Channel::try_recv_locked(uint64_t* out, Waiter** wake) {
  if (cap_ != 0) {
    Ring r = ring_pop(out);
    if (r == Ring::kOk) {
      if (send_waiting_.load(std::memory_order_seq_cst) != 0)
        notify_one_locked(sendq_, send_waiting_, wake);
      return Res::kOk;
    }
    return r == Ring::kClosed ? Res::kClosed : Res::kWouldBlock;
  }
  while (CaseRec* r = sendq_.pop_front()) {
    send_waiting_.fetch_sub(1, std::memory_order_seq_cst);
    if (r->w == nullptr) {  // ghost: a value given back by an exited receiver
      *out = r->val;
      delete r;
      return Res::kOk;
    }
    if (r->w->try_claim(r)) {
      *out = r->val;
      r->val = 0;
      r->outcome = Outcome::kHandoff;
      *wake = r->w;
      return Res::kOk;
    }
  }
  return closed_.load(std::memory_order_relaxed) ? Res::kClosed : Res::kWouldBlock;
}

void Channel::enqueue_locked(CaseRec* r) {
  r->outcome = Outcome::kNone;
  if (r->is_send) {
    sendq_.push_back(r);
    send_waiting_.fetch_add(1, std::memory_order_seq_cst);
  } else {
    recvq_.push_back(r);
    recv_waiting_.fetch_add(1, std::memory_order_seq_cst);
  }
}

void Channel::dequeue_locked(CaseRec* r) {
  if (!r->queued) return;
  if (r->is_send) {
    sendq_.remove(r);
    send_waiting_.fetch_sub(1, std::memory_order_seq_cst);
  } else {
    recvq_.remove(r);
    recv_waiting_.fetch_sub(1, std::memory_order_seq_cst);
  }
}

bool Channel::close() {
  if (cap_ != 0) {
    uint64_t prev = tail_.fetch_or(mark_bit_, std::memory_order_seq_cst);
    if (prev & mark_bit_) return false;
    std::lock_guard<std::mutex> g(mu_);
    // Waiters retry: receivers drain what is left, then see the channel closed.
    wake_all_locked(recvq_, recv_waiting_, Outcome::kNotify);
    wake_all_locked(sendq_, send_waiting_, Outcome::kNotify);
    return true;
  }
  std::lock_guard<std::mutex> g(mu_);
  if (closed_.load(std::memory_order_relaxed)) return false;
  closed_.store(true, std::memory_order_release);
  wake_all_locked(recvq_, recv_waiting_, Outcome::kClosed);
  wake_all_locked(sendq_, send_waiting_, Outcome::kClosed);
  return true;
}

void Channel::give_back(uint64_t v) {
  Waiter* wake = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (cap_ != 0) {
      // Buffered channels never hand values to waiters, so this is not reached for them;
      // keep the value if there is room rather than dropping it.
      if (ring_push(v) == Ring::kOk) notify_one_locked(recvq_, recv_waiting_, &wake);
      else drop_value(elem_, v);
    } else {
      while (CaseRec* r = recvq_.pop_front()) {
        recv_waiting_.fetch_sub(1, std::memory_order_seq_cst);
        if (r->w->try_claim(r)) {
          r->val = v;
          r->outcome = Outcome::kHandoff;
          wake = r->w;
          break;
        }
      }
      // nothrow: this runs while a thread exits (cleanup hooks, stopped waits), where an
      // exception would end the process; out of memory the value is dropped instead.
      CaseRec* ghost = wake == nullptr ? new (std::nothrow) CaseRec() : nullptr;
      if (wake == nullptr && ghost == nullptr) drop_value(elem_, v);
      if (ghost != nullptr) {
        ghost->ch = this;
        ghost->is_send = true;
        ghost->val = v;
        sendq_.push_front(ghost);
        send_waiting_.fetch_add(1, std::memory_order_seq_cst);
      }
    }
  }
  if (wake != nullptr) complete(wake);
}

}  // namespace weft
