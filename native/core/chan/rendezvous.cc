// rendezvous.cc — the unbuffered flavour of Channel (channel.h): a rendezvous under mu_
// (Go's runtime/chan.go). A sender that finds a waiting receiver claims it and hands the value
// over directly; otherwise it queues itself with the value and parks until a receiver takes it.
// The closed flag is closed_ (buffered channels keep it as the tail's mark bit instead).
#include <new>

#include "core/chan/channel.h"

namespace weft {

Channel::Res Channel::rv_try_send(uint64_t v) {
  // Unbuffered fast path: nobody waiting to receive and not closed means we would block.
  // Racy by design; blocking callers re-check under the lock after registering. seq_cst:
  // pairs with the seq_cst increment of recv_waiting() by a receiver queueing (channel.h);
  // acquire on closed_: pairs with rv_close()'s release store.
  if (recv_waiting().load(std::memory_order_seq_cst) == 0 &&
      !closed_.load(std::memory_order_acquire))
    return Res::kWouldBlock;
  Waiter* wake = nullptr;
  Res r;
  {
    std::lock_guard<std::mutex> g(mu_);
    r = rv_send_locked(v, &wake);
  }
  if (wake != nullptr) complete(wake);
  return r;
}

Channel::Res Channel::rv_try_recv(uint64_t* out) {
  // As rv_try_send, mirrored: send_waiting() pairs with a queueing sender's increment.
  if (send_waiting().load(std::memory_order_seq_cst) == 0 &&
      !closed_.load(std::memory_order_acquire))
    return Res::kWouldBlock;
  Waiter* wake = nullptr;
  Res r;
  {
    std::lock_guard<std::mutex> g(mu_);
    r = rv_recv_locked(out, &wake);
  }
  if (wake != nullptr) complete(wake);
  return r;
}

// Hands v to the first receiver still waiting (stale records are dropped) and returns its
// Waiter for the caller to complete() after dropping mu_; null if none waits. The acq_rel
// claim CAS pairs with the receiver's cancel CAS (Waiter::try_cancel): exactly one wins. val
// and outcome are written after the claim and published by complete()'s release store of
// `word` (or the inbox lock for an async receiver).
Waiter* Channel::rv_hand_to_receiver_locked(uint64_t v) {
  while (CaseRec* r = recvq_.pop_front()) {
    // seq_cst: keeps the count the lock-free fast paths read in step with the queue (channel.h).
    recv_waiting().fetch_sub(1, std::memory_order_seq_cst);
    if (r->w->try_claim(r)) {
      r->val = v;
      r->outcome = Outcome::kHandoff;
      return r->w;
    }
  }
  return nullptr;
}

Channel::Res Channel::rv_send_locked(uint64_t v, Waiter** wake) {
  // relaxed: closed_ is only written under mu_, which we hold.
  if (closed_.load(std::memory_order_relaxed)) return Res::kClosed;
  *wake = rv_hand_to_receiver_locked(v);
  return *wake != nullptr ? Res::kOk : Res::kWouldBlock;
}

Channel::Res Channel::rv_recv_locked(uint64_t* out, Waiter** wake) {
  while (CaseRec* r = sendq_.pop_front()) {
    send_waiting().fetch_sub(1, std::memory_order_seq_cst);  // as in rv_hand_to_receiver_locked
    if (r->w == nullptr) {  // ghost: a value given back by an exited receiver
      *out = r->val;
      delete r;
      return Res::kOk;
    }
    // acq_rel claim against the sender's cancel; the sender reads val == 0 (moved) after
    // complete()'s release.
    if (r->w->try_claim(r)) {
      *out = r->val;
      r->val = 0;
      r->outcome = Outcome::kHandoff;
      *wake = r->w;
      return Res::kOk;
    }
  }
  return closed_.load(std::memory_order_relaxed) ? Res::kClosed : Res::kWouldBlock;  // under mu_
}

bool Channel::rv_close() {
  std::lock_guard<std::mutex> g(mu_);
  if (closed_.load(std::memory_order_relaxed)) return false;
  // release: pairs with the acquire loads of the lock-free fast paths (rv_try_*, closed()).
  closed_.store(true, std::memory_order_release);
  wake_all_locked(recvq_, recv_waiting(), Outcome::kClosed);
  wake_all_locked(sendq_, send_waiting(), Outcome::kClosed);
  return true;
}

// A value given back (give_back) goes to a waiting receiver, else is parked as a ghost sender.
void Channel::rv_give_back_locked(uint64_t v, Waiter** wake) {
  *wake = rv_hand_to_receiver_locked(v);
  // nothrow: this runs while a thread exits (cleanup hooks, stopped waits), where an
  // exception would end the process; out of memory the value is dropped instead.
  CaseRec* ghost = *wake == nullptr ? new (std::nothrow) CaseRec() : nullptr;
  if (*wake == nullptr && ghost == nullptr) drop_value(elem_, v);
  if (ghost != nullptr) {
    ghost->ch = this;
    ghost->is_send = true;
    ghost->val = v;
    sendq_.push_front(ghost);
    // seq_cst: a receiver's fast path (rv_try_recv) must see the ghost (channel.h).
    send_waiting().fetch_add(1, std::memory_order_seq_cst);
  }
}

}  // namespace weft
