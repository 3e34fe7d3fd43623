// async_op.h — the state machine of one asynchronous (Promise) operation, Node-free.
//
// An AsyncOp is a Waiter (parker.h) whose completion is delivered to its owner thread's Inbox
// instead of waking a parked thread. It waits either on channel cases (recs: a send, a
// receive or a select) or on one sync primitive (prim + srec: lock, acquire, wait, do).
//
// Life of an op, all transitions decided by the single claim CAS on Waiter::state:
//   registered ──claim (peer)──> in the inbox ──async_process (owner)──> settled, or queued again
//        │                            │
//        └─async_cancel / async_withdraw wins (owner)─> unlinked, settled or freed now
//                                     └─cancel lost: async_process honours cancel_code / withdraw
//                                     └─owner tearing down: async_abandon gives back what it carries
// Exactly one of "a peer claims it" and "the owner cancels it" happens (acq_rel CAS on
// state), so every op is finished exactly once, and whatever a claim handed to an op the
// owner will not act on (a received value, a mutex wake-up, permits, a Cond signal) is given
// back or passed on, never lost.
//
// The glue (native/node/thread_ctx.cc) keeps what needs Node: settling the JS side, the
// event-loop wake-up behind the Inbox, the op-id table and value conversion.
// Every function here runs on the owner thread except where noted.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/abi.h"
#include "core/blocked.h"
#include "core/chan/select.h"
#include "core/park/inbox.h"
#include "core/park/parker.h"
#include "core/park/waitq.h"
#include "core/shared.h"

namespace weft {

// One pending Promise operation: a waiter with its cases and the channels it keeps alive,
// settled on the owner thread.
struct AsyncOp : Waiter {
  uint64_t op_id = 0;
  bool awaited = false;  // the glue told JS it is pending (JS awaits a settle for op_id)
  std::vector<CaseRec> recs;
  bool is_select = false;
  // Set by async_cancel() when a claim won the race; async_process() then reports it. Owner
  // thread only: written and read on the thread that drains the inbox, so plain fields.
  int32_t cancel_code = 0;
  // cancel(withdraw): a value a peer already handed to this receive goes back to the channel
  // instead of settling the Promise (an async iterator whose consumer left). Owner thread only.
  bool withdraw = false;  // set by cancel() when a claim won the race
  bool weak = false;        // does not keep the event loop alive (see ThreadCtx::weaken)
  // Sync-primitive waits (mutex, semaphore, ...): the primitive (retained) and the record.
  SyncPrim* prim = nullptr;
  SyncRec srec;
  // Called on the owner thread when the record was claimed with Grant::kRetry: take the
  // resource (true) or queue again (false).
  bool (*retry)(AsyncOp* op) = nullptr;
  Blocked blocked{};
  bool registered = false;  // `blocked` is in the dump() list
  // Unreachable-op detection (deadlock.cc): what else can end the op besides its objects.
  Shared* also = nullptr;   // a context's done channel whose signal aborts it (retained)
  bool external = false;    // an ordinary AbortSignal: anyone may abort it, never "asleep"
};

// What the owner does with an op after async_process() or at registration.
struct AsyncResult {
  bool pending = false;  // queued again (a retry or a notification): nothing to settle yet
  int32_t code = abi::ix(abi::Code::Ok);  // the code to settle with (abi::Code)
  SelectOut out;         // channel ops: the case taken and a received value (owned now)
};

// Makes a sync-primitive op completable: delivered to `inbox`, its record naming `thread`.
// Call before queueing it anywhere (a peer may complete it at once).
void async_prepare(AsyncOp* op, std::shared_ptr<Inbox> inbox, uint64_t thread);

// Makes a channel op completable (inbox, case array) and retains its channels, which the op
// keeps alive while it exists (async_free releases them). Call before async_register.
void async_bind_cases(AsyncOp* op, std::shared_ptr<Inbox> inbox);

// Queues a channel op on its channels (select_register). false: a case completed at once;
// *res holds the result to settle with (never pending).
bool async_register(AsyncOp* op, uint64_t* rng, AsyncResult* res);

// The owner gives up on a pending op. If the cancel wins the claim race the op is unlinked
// from everything and true is returned: the caller settles it with `code` (or frees it).
// Otherwise a claim is on its way to the inbox: `code` and `withdraw` are recorded for
// async_process(), and false is returned.
bool async_cancel(AsyncOp* op, int32_t code, bool withdraw);

// The owner discards a pending op without settling it (teardown, an unreachable op): true
// when the cancel won (unlinked; the caller frees it), false when a claim is on its way (the
// caller must async_abandon() it when it arrives).
bool async_withdraw(AsyncOp* op);

// An op taken from the inbox: finishes it. Honours a cancel that lost the race (the code is
// reported; a wake-up is passed on; a withdrawn receive gives its value back), retries a
// Grant::kRetry wake-up through op->retry, and re-registers a channel op whose notification
// retry failed (pending = true then: the op is queued again and stays alive).
AsyncResult async_process(AsyncOp* op, uint64_t* rng);

// An op taken from the inbox whose owner will never act on it (its thread is stopping): a
// value handed to a receive goes back to its channel, a wake-up or a grant passes on to
// another waiter. Then frees it.
void async_abandon(AsyncOp* op);

// Releases what the op holds (its primitive, its channels, an unsent payload, `also`) and
// deletes it. The op must not be queued anywhere.
void async_free(AsyncOp* op);

// Owner teardown, after async_withdraw() lost for `claimed` ops: waits until that many ops
// arrived in the inbox (their claimers push them soon; it yields meanwhile) and abandons
// each. Never allocates except inside Inbox::drain (retried on failure); never throws.
void async_drain_abandoned(Inbox* inbox, size_t claimed) noexcept;

}  // namespace weft
