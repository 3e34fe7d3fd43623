// select.h — waiting on one or more channel cases (Go's select; a plain blocking send or
// receive is a select with one case).
//
// Protocol (Go's selectgo, with crossbeam's waiter claim):
//  1. try every case without waiting, in random order;
//  2. lock the queues of all channels involved (in address order, each once), try again
//     (nothing can claim us meanwhile: our records are not queued yet), then queue one
//     CaseRec per case and unlock;
//  3. park until a peer claims the waiter through one case (CAS on Waiter::state);
//  4. unlink the remaining CaseRecs; a rendezvous hand-off or a close is final, a buffered
//     channel's notification means "retry that case", and the loop starts again.
// Because our records are queued only between steps 2 and 4, and peers only pair with queued
// records, a select can never pair with itself on a rendezvous channel.
#pragma once

#include <cstdint>

#include "core/chan/channel.h"
#include "core/park/parker.h"

namespace weft {

struct SelectOut {
  int32_t index = -1;          // chosen case, -1 if none
  Channel::Res res = Channel::Res::kWouldBlock;  // kOk, or kClosed (recv: !ok; send: error)
  uint64_t val = 0;            // recv payload (owned by the caller now)
};

// kAsleep is never returned by select_block itself: a caller whose stop probe found that no
// other thread can end the wait (node/deadlock.cc, sync_asleep) reports its kStopped so.
enum class WaitStatus : uint8_t { kDone, kWouldBlock, kTimeout, kStopped, kAsleep };

uint64_t next_random(uint64_t* state);

// One non-blocking pass over the cases in random order. On kOk of a send case, ownership of
// that case's payload moved into the channel (recs[i].val is zeroed).
bool select_try(CaseRec* recs, int32_t n, uint64_t* rng, SelectOut* out);

// Step 2. Returns true when the waiter is registered (pending), false when a case completed
// during the locked re-check (result in *out).
bool select_register(Waiter* w, CaseRec* recs, int32_t n, uint64_t* rng, SelectOut* out);

// Step 4 after a claim. Returns true when the select is finished (*out filled), false when
// the claim was a notification whose retry failed (the caller registers again).
bool select_finish(Waiter* w, uint64_t* rng, SelectOut* out);

// Unlink every still-queued CaseRec of w (after a cancel or a claim).
void select_unlink(Waiter* w);

// After a claim that the owner cannot act on (it is exiting or gave up): make sure nothing
// is lost. A value handed to it goes back to the channel; a notification is passed on.
void select_abandon_claim(Waiter* w);

// Blocking select for the calling thread (steps 1-4 with spinning, timeouts and a stop probe).
// Called around each park (begin = true before, false after): diagnostics (dump()).
struct ParkHook {
  void (*fn)(void* arg, bool begin);
  void* arg;
};

// spin_ns: the calling thread's adaptive spin budget (see park()).
WaitStatus select_block(Waiter* w, CaseRec* recs, int32_t n, bool spin, uint64_t deadline_ns,
                        StopProbe probe, void* probe_arg, uint64_t* rng, SelectOut* out,
                        uint64_t* spin_ns = nullptr, const ParkHook* hook = nullptr);

}  // namespace weft
