// rendezvous.cc — the unbuffered flavour of Channel (channel.h): a rendezvous under mu_
// (Go's runtime/chan.go). A sender that finds a waiting receiver claims it and hands the value
// over directly; otherwise it queues itself with the value and parks until a receiver takes it.
// The closed flag is closed_ (buffered channels keep it as the tail's mark bit instead).
#include <new>

#include "core/chan/channel.h"

namespace weft {

Channel::Res Channel::rv_try_send(uint64_t v) {
  // Unbuffered fast path: nobody waiting to receive and not closed means we would block.
  // Racy by design; blocking callers re-check under the lock after registering.
  if (recv_waiting_.load(std::memory_order_seq_cst) == 0 &&
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
  if (send_waiting_.load(std::memory_order_seq_cst) == 0 &&
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

Channel::Res Channel::rv_send_locked(uint64_t v, Waiter** wake) {
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

Channel::Res Channel::rv_recv_locked(uint64_t* out, Waiter** wake) {
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

bool Channel::rv_close() {
  std::lock_guard<std::mutex> g(mu_);
  if (closed_.load(std::memory_order_relaxed)) return false;
  closed_.store(true, std::memory_order_release);
  wake_all_locked(recvq_, recv_waiting_, Outcome::kClosed);
  wake_all_locked(sendq_, send_waiting_, Outcome::kClosed);
  return true;
}

// A value given back (give_back) goes to a waiting receiver, else is parked as a ghost sender.
void Channel::rv_give_back_locked(uint64_t v, Waiter** wake) {
  while (CaseRec* r = recvq_.pop_front()) {
    recv_waiting_.fetch_sub(1, std::memory_order_seq_cst);
    if (r->w->try_claim(r)) {
      r->val = v;
      r->outcome = Outcome::kHandoff;
      *wake = r->w;
      break;
    }
  }
  // nothrow: this runs while a thread exits (cleanup hooks, stopped waits), where an
  // exception would end the process; out of memory the value is dropped instead.
  CaseRec* ghost = *wake == nullptr ? new (std::nothrow) CaseRec() : nullptr;
  if (*wake == nullptr && ghost == nullptr) drop_value(elem_, v);
  if (ghost != nullptr) {
    ghost->ch = this;
    ghost->is_send = true;
    ghost->val = v;
    sendq_.push_front(ghost);
    send_waiting_.fetch_add(1, std::memory_order_seq_cst);
  }
}

}  // namespace weft
