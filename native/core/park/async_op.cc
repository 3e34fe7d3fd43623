// async_op.cc — see async_op.h.
#include "core/park/async_op.h"

#include <utility>

#include "core/chan/channel.h"
#include "core/message.h"

namespace weft {

namespace {
constexpr int32_t kCodeOk = abi::ix(abi::Code::Ok);
constexpr int32_t kCodeClosed = abi::ix(abi::Code::Closed);
constexpr int32_t kCodeRetry = abi::ix(abi::Code::Retry);

AsyncResult settled(int32_t code, const SelectOut& out = SelectOut()) {
  AsyncResult r;
  r.code = code;
  r.out = out;
  return r;
}

AsyncResult from_select(const SelectOut& out) {
  return settled(out.res == Channel::Res::kOk ? kCodeOk : kCodeClosed, out);
}

// Unlinks a canceled (or claimed) op from whatever it is queued on.
void unlink(AsyncOp* op) {
  if (op->prim != nullptr) op->prim->unlink(&op->srec);
  else select_unlink(op);
}

// The owner will not act on a claim: give back what it carries.
void give_back(AsyncOp* op) {
  if (op->prim != nullptr) {
    op->prim->abandon(&op->srec);  // a grant is released, a wake-up or signal passed on
  } else {
    select_unlink(op);
    select_abandon_claim(op);  // a received value goes back to the front of its channel
  }
}
}  // namespace

void async_prepare(AsyncOp* op, std::shared_ptr<Inbox> inbox, uint64_t thread) {
  // Plain writes: the op becomes visible to other threads only when queued, under the
  // primitive's lock, which publishes them.
  op->async = true;
  op->inbox = std::move(inbox);
  op->srec.w = op;
  op->srec.thread = thread;
}

// Plain writes, as in async_prepare: select_register() publishes them under each channel's
// queue lock when it enqueues the cases.
void async_bind_cases(AsyncOp* op, std::shared_ptr<Inbox> inbox) {
  op->async = true;
  op->inbox = std::move(inbox);
  op->cases = op->recs.data();
  op->ncases = int32_t(op->recs.size());
  for (CaseRec& c : op->recs)
    if (c.ch != nullptr) c.ch->retain();  // the op keeps its channels alive while pending
}

bool async_register(AsyncOp* op, uint64_t* rng, AsyncResult* res) {
  SelectOut out;
  if (select_register(op, op->cases, op->ncases, rng, &out)) return true;
  *res = from_select(out);
  return false;
}

bool async_cancel(AsyncOp* op, int32_t code, bool withdraw) {
  // acq_rel CAS on state, paired with the claimer's try_claim: exactly one of them wins.
  if (op->try_cancel()) {
    unlink(op);
    return true;
  }
  // A peer claimed it first; the completion (already in, or on its way to, the inbox) decides.
  // Both fields are read by async_process() on this same thread, so plain writes suffice.
  op->cancel_code = code;
  op->withdraw = withdraw;
  return false;
}

bool async_withdraw(AsyncOp* op) {
  // Same CAS as async_cancel(): a lost race means the claimer will push the op to the inbox.
  if (!op->try_cancel()) return false;
  unlink(op);
  return true;
}

AsyncResult async_process(AsyncOp* op, uint64_t* rng) {
  // The op came out of Inbox::drain(): the inbox lock (taken by the claimer's push after it
  // filled srec / the claimed CaseRec, and by the drain) orders those writes before these reads.
  if (op->prim != nullptr) {
    Grant g = op->srec.grant;
    if (g == Grant::kRetry) {
      if (op->cancel_code != 0) {
        op->prim->abandon(&op->srec);  // pass the wake-up on
        return settled(op->cancel_code);
      }
      if (op->retry == nullptr) return settled(kCodeRetry);
      // Reuse the waiter: nobody else references it now (claimed, unlinked, delivered), so
      // relaxed stores suffice; queueing again publishes them under the primitive's lock.
      op->reset();
      op->srec.grant = Grant::kNone;
      if (!op->retry(op)) {
        AsyncResult r;
        r.pending = true;  // queued again
        return r;
      }
    }
    // Granted (or done): a cancel that lost still reports success — the op got what it
    // asked for, and the caller owns it now.
    return settled(kCodeOk);
  }
  if (op->cancel_code != 0) {
    // acquire: pairs with the claimer's acq_rel claim CAS; which case it took.
    int32_t k = op->state.load(std::memory_order_acquire);
    const CaseRec& rec = op->recs[k];
    if (rec.outcome == Outcome::kNotify ||
        (op->withdraw && !rec.is_send && rec.outcome == Outcome::kHandoff)) {
      // Gave up before acting on the notification: pass it on, report the cancel. A withdrawn
      // receive that was handed a value gives it back the same way: select_abandon_claim()
      // puts it at the front of the channel (Channel::give_back), so no receiver loses it.
      select_unlink(op);
      select_abandon_claim(op);
      return settled(op->cancel_code);
    }
  }
  SelectOut out;
  bool done = select_finish(op, rng, &out);
  if (!done && op->cancel_code != 0) return settled(op->cancel_code);
  if (!done && select_register(op, op->cases, op->ncases, rng, &out)) {
    AsyncResult r;
    r.pending = true;  // wait again
    return r;
  }
  return from_select(out);
}

void async_abandon(AsyncOp* op) {
  // The op was claimed by a peer (that is how it reached the inbox): values handed to a
  // receive go back to their channel, a wake-up (notify/grant) passes on to another waiter.
  give_back(op);
  async_free(op);
}

// Only once nobody else references the op: it was never queued, was withdrawn (cancel CAS won,
// unlinked under the primitive's / channels' locks), or came out of the inbox after its claim.
void async_free(AsyncOp* op) {
  if (op->also != nullptr) op->also->release();
  if (op->prim != nullptr) {
    op->prim->release();
    delete op;
    return;
  }
  for (CaseRec& c : op->recs) {
    if (c.ch == nullptr) continue;
    if (c.is_send) drop_value(c.ch->elem(), c.val);  // an unsent payload (0 once moved)
    c.ch->release();
  }
  delete op;
}

void async_drain_abandoned(Inbox* inbox, size_t claimed) noexcept {
  size_t arrived = 0;
  while (arrived < claimed) {
    std::vector<Waiter*> items;
    try {
      items = inbox->drain();
    } catch (...) {
      // out of memory: the items stay queued; try again after yielding
    }
    for (Waiter* w : items) {
      async_abandon(static_cast<AsyncOp*>(w));
      arrived++;
    }
    if (arrived < claimed) thread_yield();
  }
}

}  // namespace weft
