// channel.cc — see channel.h. The interface every channel shares: construction, the waiter
// queues and their notification, and the operations, which dispatch to the channel's flavour:
// ring.cc (buffered: the lock-free ring) or rendezvous.cc (unbuffered: hand-off under mu_).
#include "core/chan/channel.h"

#include <new>

namespace weft {

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

// The ring header lives apart (channel.h hdr_): an idle unbuffered channel must not carry it.
static_assert(sizeof(Channel) < sizeof(abi::RingHeader), "Channel embeds its ring header again");

Channel::Channel(uint32_t capacity, Elem elem)
    : Shared(Kind::Channel), cap_(capacity), elem_(elem) {
  if (cap_ != 0) init_ring();  // ring.cc
}

Channel::~Channel() {
  // No waiter can be queued: every queued CaseRec's owner holds a reference (sync callers
  // through their handle on the stack, async waiters explicitly). Only ghosts may remain.
  if (cap_ != 0) {
    uint64_t v;
    while (ring_pop(&v) == Ring::kOk) drop_value(elem_, v);
  }
  delete[] owners_.load(std::memory_order_relaxed);  // last reference: nobody else runs
  while (CaseRec* r = sendq_.pop_front()) {
    if (r->w == nullptr) {
      drop_value(elem_, r->val);
      delete r;
    }
  }
}

size_t Channel::try_send_many(const uint64_t* vals, size_t n, Res* res) {
  size_t done = 0;
  *res = Res::kOk;
  if (cap_ != 0 && elem_ != Elem::Structured) done = ring_push_many(vals, n);
  if (done > 0) {
    // seq_cst after ring_push_many's tail CAS: see RingHeader::recv_waiting (channel.h).
    for (size_t i = 0; i < done && recv_waiting().load(std::memory_order_seq_cst) != 0; i++)
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
  // Structured rings pop one at a time (ring_pop turns inline values into messages).
  if (cap_ != 0 && elem_ != Elem::Structured) done = ring_pop_many(out, max);
  if (done > 0) {
    // seq_cst after ring_pop_many's head CAS: see RingHeader::send_waiting (channel.h).
    for (size_t i = 0; i < done && send_waiting().load(std::memory_order_seq_cst) != 0; i++)
      notify_after_pop();
    return done;
  }
  if (max == 0) return 0;
  *res = try_recv(out);
  return *res == Res::kOk ? 1 : 0;
}

bool Channel::closed() const {
  // acquire: pairs with rv_close()'s release store (rendezvous.cc).
  if (cap_ == 0) return closed_.load(std::memory_order_acquire);
  return ring_closed();
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
  // seq_cst load: see the comment on recv_waiting().
  if (recv_waiting().load(std::memory_order_seq_cst) == 0) return;
  Waiter* wake = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    notify_one_locked(recvq_, recv_waiting(), &wake);
  }
  if (wake != nullptr) complete(wake);
}

void Channel::notify_after_pop() {
  // seq_cst load: see the comment on hdr_ (channel.h) (mirrored for senders).
  if (send_waiting().load(std::memory_order_seq_cst) == 0) return;
  Waiter* wake = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    notify_one_locked(sendq_, send_waiting(), &wake);
  }
  if (wake != nullptr) complete(wake);
}

void Channel::forward_notify(bool to_senders) {
  Waiter* wake = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (to_senders) notify_one_locked(sendq_, send_waiting(), &wake);
    else notify_one_locked(recvq_, recv_waiting(), &wake);
  }
  if (wake != nullptr) complete(wake);
}

// ---- operations: one per flavour ---------------------------------------------------------------

Channel::Res Channel::try_send(uint64_t v) { return cap_ != 0 ? ring_try_send(v) : rv_try_send(v); }

Channel::Res Channel::try_recv(uint64_t* out) {
  return cap_ != 0 ? ring_try_recv(out) : rv_try_recv(out);
}

Channel::Res Channel::try_send_locked(uint64_t v, Waiter** wake) {
  return cap_ != 0 ? ring_send_locked(v, wake) : rv_send_locked(v, wake);
}

Channel::Res Channel::try_recv_locked(uint64_t* out, Waiter** wake) {
  return cap_ != 0 ? ring_recv_locked(out, wake) : rv_recv_locked(out, wake);
}

bool Channel::close() { return cap_ != 0 ? ring_close() : rv_close(); }

// Under mu_. The counts are seq_cst: a waiter's increment comes before its re-check of the ring
// (select re-tries its cases after registering), and a pusher's/popper's CAS before its load of
// the count, so one of the two sees the other (see hdr_ in channel.h).
void Channel::enqueue_locked(CaseRec* r) {
  r->outcome = Outcome::kNone;
  if (r->is_send) {
    sendq_.push_back(r);
    send_waiting().fetch_add(1, std::memory_order_seq_cst);
  } else {
    recvq_.push_back(r);
    recv_waiting().fetch_add(1, std::memory_order_seq_cst);
  }
}

// Under mu_; seq_cst as in enqueue_locked.
void Channel::dequeue_locked(CaseRec* r) {
  if (!r->queued) return;
  if (r->is_send) {
    sendq_.remove(r);
    send_waiting().fetch_sub(1, std::memory_order_seq_cst);
  } else {
    recvq_.remove(r);
    recv_waiting().fetch_sub(1, std::memory_order_seq_cst);
  }
}

void Channel::give_back(uint64_t v) {
  Waiter* wake = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (cap_ != 0) {
      // Buffered channels never hand values to waiters, so this is not reached for them;
      // keep the value if there is room rather than dropping it.
      if (ring_push(v) == Ring::kOk) notify_one_locked(recvq_, recv_waiting(), &wake);
      else drop_value(elem_, v);
    } else {
      rv_give_back_locked(v, &wake);  // rendezvous.cc
    }
  }
  if (wake != nullptr) complete(wake);
}

}  // namespace weft
