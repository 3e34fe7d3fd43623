// bind_chan.h — what the channel, batch and select bindings (bind_chan.cc, bind_many.cc,
// bind_select.cc) share: reading a channel argument, blocking on one operation, the result
// code of an operation, and the dump() entry of a thread parked in one. Their register functions are declared in bindings.h.
#pragma once

#include <node_api.h>

#include <cstdint>

#include "core/blocked.h"
#include "core/chan/channel.h"
#include "core/chan/select.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

// The channel behind a handle argument (null with a TypeError pending if it is not one).
inline Channel* chan_of(napi_env env, napi_value v) {
  return unwrap<Channel>(env, v, Kind::Channel, Kind(0), "a channel handle");
}

inline int32_t code_of(WaitStatus st, const SelectOut& out) {
  switch (st) {
    case WaitStatus::kDone:
      return out.res == Channel::Res::kOk ? kCodeOk : kCodeClosed;
    case WaitStatus::kTimeout:
      return kCodeTimeout;
    case WaitStatus::kStopped:
      return kCodeStopped;
    case WaitStatus::kAsleep:
      return kCodeDeadlock;
    case WaitStatus::kWouldBlock:
      return kCodeWouldBlock;
  }
  return kCodeWouldBlock;
}

inline int32_t code_of(Channel::Res r) {
  return r == Channel::Res::kOk ? kCodeOk
         : r == Channel::Res::kClosed ? kCodeClosed : kCodeWouldBlock;
}

// Blocks the calling thread on one channel operation until it completes, the deadline
// (deadline_after) passes, or the thread is stopped (bind_chan.cc; bind_many.cc uses it too).
// A send gives *val to the channel; a receive's value is in out->val.
WaitStatus block_one(ThreadCtx* tc, Channel* ch, bool is_send, uint64_t* val,
                     uint64_t deadline, SelectOut* out);

// dump() entry of a thread parked in a channel operation (registered only while parked).
struct ParkInfo {
  Blocked b;
  static void hook(void* arg, bool begin) {
    auto* p = static_cast<ParkInfo*>(arg);
    if (begin) {
      if (p->b.since_ns == 0) p->b.since_ns = now_ns();
      block_begin(&p->b);
    } else {
      block_end(&p->b);
    }
  }
};

// ---- send records (send_record.cc; abi.h kSendRecord*, lib/chan/ring.ts) ------------------
// This thread's send record: written by its JavaScript before each ring send.
abi::SendRecord& this_thread_send_record();
// A ring's header was mapped into this thread (chanRing) / its buffer was finalized:
// the rings a stopped send of this thread can be on. ring_unmapped first finishes such a send.
void ring_mapped(Channel* ch);
void ring_unmapped(Channel* ch);
// This thread's JavaScript has stopped for good (ThreadCtx::cleanup, before anything that may
// push into a channel): publish what a send stopped midway had claimed (Channel::finish_send).
void finish_stopped_send();
// sendRecord() -> ArrayBuffer over this thread's send record, its send id filled in.
napi_value js_send_record(napi_env env, napi_callback_info info);

}  // namespace weft
