// bind_chan.cc — the Node-API functions behind Chan (one native call per channel operation;
// batches are in bind_many.cc, select in bind_select.cc, value conversion in marshal.cc), and
// cancel/weaken of any pending async operation.
//
// Calling convention shared with lib/internal/native.ts: results that can fail report a code
// (thread_ctx.h: Code) either as the return value or, when the return value is the received
// value itself, in status.Code of the thread's status area. Structured payloads travel through
// the thread's scratch area (the JS codec writes/reads it); their weft objects travel as
// arrays of handles.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/chan/channel.h"
#include "core/chan/select.h"
#include "node/bind_chan.h"
#include "node/bindings.h"
#include "node/handle.h"
#include "node/marshal.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

// Blocks the calling thread on a single case (declared in bind_chan.h).
WaitStatus block_one(ThreadCtx* tc, Channel* ch, bool is_send, uint64_t* val,
                     uint64_t deadline, SelectOut* out) {
  // What a peer writes when it completes this wait (rec.outcome and rec.val, then w.state by
  // its claim CAS and w.word by complete()'s exchange) on one cache line of our stack, so a
  // hand-off moves one line, not two: with rec and w placed apart by whatever else the frame
  // holds, one more stack variable here made the unbuffered ping-pong (bench weft.pp) 25%
  // slower, 2.0 against 1.6 us per round trip. OneWait's layout: rec at 0 (outcome at 22,
  // val at 24), w at 48 (state at 48, word at 52); the static_assert keeps it so.
  struct alignas(64) OneWait {
    CaseRec rec;
    Waiter w;
  } one;
  static_assert(offsetof(OneWait, w) + offsetof(Waiter, word) + sizeof(uint32_t) <= 64,
                "the fields a completer writes must share the first cache line");
  CaseRec& rec = one.rec;
  Waiter& w = one.w;
  rec.ch = ch;
  rec.is_send = is_send;
  rec.val = is_send ? *val : 0;
  ParkInfo info{{tc->thread_id, is_send ? "send" : "recv", ch, 0, true}};
  ParkHook hook{&ParkInfo::hook, &info};
  ThreadCtx::SyncWait sw{tc, &w, &rec, 1, deadline == 0 && tc->is_main, is_send ? "send" : "recv"};
  WaitStatus st = select_block(&w, &rec, 1, true, deadline, &ThreadCtx::sync_probe, &sw,
                               &tc->rng, out, &tc->spin_ns, &hook);
  if (is_send) *val = rec.val;  // 0 once the channel took a structured payload
  if (sw.asleep && st == WaitStatus::kStopped && !tc->stopping) return WaitStatus::kAsleep;
  return st;
}

namespace {

// ---- functions -----------------------------------------------------------------------------

napi_value js_chan_new(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  double cap = 0;
  int32_t elem = 0;
  napi_get_value_double(env, a.v[0], &cap);
  napi_get_value_int32(env, a.v[1], &elem);
  if (!(cap >= 0 && cap <= 4294967295.0) || elem < 0 || elem > int32_t(Elem::Bool)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "capacity or elem out of range");
    return nullptr;
  }
  Channel* ch;
  try {
    ch = new Channel(uint32_t(cap), Elem(elem));  // the ring is allocated up front, as Go does
  } catch (const std::bad_alloc&) {
    std::string msg = "capacity " + std::to_string(uint64_t(cap)) +
                      " cannot be allocated (out of memory)";
    napi_throw_range_error(env, "ERR_MEMORY_ALLOCATION_FAILED", msg.c_str());
    return nullptr;
  }
  return make_handle(env, ch);
}

napi_value js_chan_info(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  napi_value arr;
  napi_create_array_with_length(env, 5, &arr);
  napi_set_element(env, arr, 0, num(env, ch->capacity()));
  napi_set_element(env, arr, 1, i32(env, int32_t(ch->elem())));
  napi_set_element(env, arr, 2, num(env, double(ch->id())));
  // [3]: owner (weft-owned channels are receive-only in every thread); [4]: name ("" if none).
  napi_set_element(env, arr, 3, i32(env, int32_t(ch->owner())));
  napi_value name;
  napi_create_string_utf8(env, ch->name().data(), ch->name().size(), &name);
  napi_set_element(env, arr, 4, name);
  return arr;
}

napi_value js_chan_len(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  return num(env, double(ch->length()));
}

napi_value js_chan_closed(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  napi_value r;
  napi_get_boolean(env, ch->closed(), &r);
  return r;
}

napi_value js_chan_close(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  napi_value r;
  napi_get_boolean(env, ch->close(), &r);
  return r;
}

// trySend(h, v, refs) -> code
napi_value js_chan_try_send(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  uint64_t bits;
  if (!value_to_bits(env, tc, ch->elem(), a.v[1], a.v[2], &bits)) return nullptr;
  Channel::Res r = ch->try_send(bits);
  if (r != Channel::Res::kOk) drop_value(ch->elem(), bits);
  return i32(env, code_of(r));
}

// sendSync(h, v, refs, timeoutMs) -> code
napi_value js_chan_send_sync(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  uint64_t bits;
  if (!value_to_bits(env, tc, ch->elem(), a.v[1], a.v[2], &bits)) return nullptr;
  Channel::Res r = ch->try_send(bits);
  if (r != Channel::Res::kWouldBlock) {
    if (r != Channel::Res::kOk) drop_value(ch->elem(), bits);
    return i32(env, code_of(r));
  }
  SelectOut out;
  WaitStatus st = block_one(tc, ch, true, &bits, deadline_after(dbl(env, a.v[3], -1)), &out);
  int32_t code = code_of(st, out);
  if (code != kCodeOk) drop_value(ch->elem(), bits);
  return i32(env, code);
}

// send(h, v, refs) -> code, or a Promise of [code] (status.Code == pending, its op id in the
// status area)
namespace {
// An async send or receive that cannot complete now polls its channel for up to
// tc->chan_spin_ns before it registers, when this thread's recent channel waits ended that
// soon: a peer on another core answering within microseconds (a ping-pong) then meets the op
// here, and the caller gets its value without a Promise to settle later, an event-loop round
// trip and a wake-up through the kernel. Tries back off (1, 2, 4 ... 16 pauses) so that the
// polling does not keep the channel's lock and lines from the peer that is about to complete
// it. A poll that runs out halves the budget (below kChanSpinMinNs: no polling, until a
// registered op completes that fast again, ThreadCtx::settle), so a thread whose peers answer
// slowly spends at most ~2 budgets before it stops polling.
template <typename Try>
Channel::Res spin_then_try(ThreadCtx* tc, Try&& attempt) {
  uint64_t budget = tc->chan_spin_ns;
  uint64_t start = now_ns();
  for (int i = 0;; i++) {
    for (int k = 0, m = 1 << std::min(i, 4); k < m; k++) cpu_relax();
    Channel::Res r = attempt();
    uint64_t now = now_ns();
    if (r != Channel::Res::kWouldBlock) {
      tc->chan_spin_ns = std::min(ThreadCtx::kChanSpinMaxNs, std::max(budget, 2 * (now - start)));
      return r;
    }
    if (now - start >= budget) break;
  }
  tc->chan_spin_ns = budget / 2 < ThreadCtx::kChanSpinMinNs ? 0 : budget / 2;
  return Channel::Res::kWouldBlock;
}
}  // namespace

napi_value js_chan_send(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  uint64_t bits;
  if (!value_to_bits(env, tc, ch->elem(), a.v[1], a.v[2], &bits)) return nullptr;
  Channel::Res r = ch->try_send(bits);
  if (r == Channel::Res::kWouldBlock && tc->chan_spin_ns > 0)
    r = spin_then_try(tc, [&] { return ch->try_send(bits); });
  if (r != Channel::Res::kWouldBlock) {
    if (r != Channel::Res::kOk) drop_value(ch->elem(), bits);
    tc->status[abi::ix(abi::StatusSlot::Code)] = code_of(r);
    return i32(env, code_of(r));
  }
  std::unique_ptr<AsyncOp> op;
  try {
    op = std::make_unique<AsyncOp>();
    op->recs.resize(1);
  } catch (...) {
    drop_value(ch->elem(), bits);  // not sent: the payload is ours to free
    throw;
  }
  op->recs[0].ch = ch;
  op->recs[0].is_send = true;
  op->recs[0].val = bits;
  tc->status[abi::ix(abi::StatusSlot::Code)] = kCodePending;
  return tc->start_async(op.release());
}

// tryRecv(h) -> value; status.Code = code
napi_value js_chan_try_recv(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  uint64_t v = 0;
  Channel::Res r = ch->try_recv(&v);
  tc->status[abi::ix(abi::StatusSlot::Code)] = code_of(r);
  if (r != Channel::Res::kOk) return nullptr;
  return value_to_js(tc, ch->elem(), v);
}

// recvSync(h, timeoutMs) -> value; status.Code = code
napi_value js_chan_recv_sync(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  uint64_t v = 0;
  Channel::Res r = ch->try_recv(&v);
  if (r == Channel::Res::kWouldBlock) {
    SelectOut out;
    WaitStatus st = block_one(tc, ch, false, nullptr, deadline_after(dbl(env, a.v[1], -1)), &out);
    tc->status[abi::ix(abi::StatusSlot::Code)] = code_of(st, out);
    if (tc->status[abi::ix(abi::StatusSlot::Code)] != kCodeOk) return nullptr;
    return value_to_js(tc, ch->elem(), out.val);
  }
  tc->status[abi::ix(abi::StatusSlot::Code)] = code_of(r);
  if (r != Channel::Res::kOk) return nullptr;
  return value_to_js(tc, ch->elem(), v);
}

// recv(h) -> value (status.Code ok/closed), or a Promise of [code, index, value] (pending)
napi_value js_chan_recv(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  uint64_t v = 0;
  Channel::Res r = ch->try_recv(&v);
  if (r == Channel::Res::kWouldBlock && tc->chan_spin_ns > 0)
    r = spin_then_try(tc, [&] { return ch->try_recv(&v); });
  if (r != Channel::Res::kWouldBlock) {
    tc->status[abi::ix(abi::StatusSlot::Code)] = code_of(r);
    if (r != Channel::Res::kOk) return nullptr;
    return value_to_js(tc, ch->elem(), v);
  }
  auto op = std::make_unique<AsyncOp>();
  op->recs.resize(1);
  op->recs[0].ch = ch;
  op->recs[0].is_send = false;
  tc->status[abi::ix(abi::StatusSlot::Code)] = kCodePending;
  return tc->start_async(op.release());
}

// chanRing(h) -> [header, slots, owner words] (numeric) or [header, slots, owner words, inline
// blocks] (structured, up to kRingInlineMaxCapacity): ArrayBuffers over a buffered channel's
// ring (abi.h: RingHeader, RingSlot, kRingOwnerBytes, kRingInlineBytes), each keeping the channel alive while it lives; null for
// unbuffered channels (a rendezvous needs the channel's lock) and larger structured rings.
napi_value js_chan_ring(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  napi_value r;
  bool structured = ch->elem() == Elem::Structured;
  if (!ch->buffered() || (structured && ch->ring_inline() == nullptr)) {
    napi_get_null(env, &r);
    return r;
  }
  // JavaScript publishes a value (its stamp store) and then, seeing a waiter counted, asks
  // native code to wake it (chanNotify): two steps, and Worker.terminate() can stop a thread
  // between them (at chanNotify's call). The header buffer's finalizer, which runs on this
  // thread when its environment ends (or the wrapper is collected), wakes one waiter of each
  // side: a wake-up such a thread still owed is delivered then (a spurious one is harmless:
  // the waiter retries its operation).
  // The same finalizer completes a JavaScript send this thread was stopped in the middle of
  // (send_record.cc), if ThreadCtx's cleanup did not already.
  napi_value hdr = words_buffer(env, ch, ch->ring_header(), abi::kRingHeaderBytes, [](Shared* s) {
    auto* c = static_cast<Channel*>(s);
    ring_unmapped(c);  // finishes a stopped send on c, if any
    c->notify_receivers();
    c->notify_senders();
  });
  if (hdr == nullptr) return nullptr;
  ring_mapped(ch);
  napi_value slots = words_buffer(env, ch, ch->ring_slots(), size_t(ch->capacity()) * abi::kRingSlotBytes);
  if (slots == nullptr) return nullptr;
  std::atomic<uint32_t>* owners = ch->ring_owners();
  if (owners == nullptr) {
    napi_throw_range_error(env, nullptr, "weft: out of memory mapping a channel's ring");
    return nullptr;
  }
  napi_value owner_words = words_buffer(env, ch, owners, size_t(ch->capacity()) * abi::kRingOwnerBytes);
  if (owner_words == nullptr) return nullptr;
  napi_create_array_with_length(env, structured ? 4 : 3, &r);
  napi_set_element(env, r, 0, hdr);
  napi_set_element(env, r, 1, slots);
  napi_set_element(env, r, 2, owner_words);
  if (structured) {
    napi_value blocks = words_buffer(env, ch, ch->ring_inline(), size_t(ch->capacity()) * abi::kRingInlineBytes);
    if (blocks == nullptr) return nullptr;
    napi_set_element(env, r, 3, blocks);
  }
  return r;
}

// chanNotify(h, toSenders): JavaScript moved a value through the ring itself and saw waiters
// counted (lib/chan/ring.ts): wake one receiver (false) or sender (true), as a native push or
// pop would.
napi_value js_chan_notify(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  bool to_senders = false;
  napi_get_value_bool(env, a.v[1], &to_senders);
  if (to_senders) ch->notify_senders();
  else ch->notify_receivers();
  return nullptr;
}

// cancel(opId, code) -> true if the op was withdrawn (its promise settles with `code`)
// cancel(id, code, withdraw?)
napi_value js_cancel(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  double id = 0;
  int32_t code = kCodeCanceled;
  bool withdraw = false;
  napi_get_value_double(env, a.v[0], &id);
  napi_get_value_int32(env, a.v[1], &code);
  napi_get_value_bool(env, a.v[2], &withdraw);  // undefined: stays false
  napi_value r;
  napi_get_boolean(env, a.tc->cancel(to_u64(id), code, withdraw), &r);
  return r;
}

napi_value js_weaken(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  double id = 0;
  napi_get_value_double(env, a.v[0], &id);
  a.tc->weaken(to_u64(id));
  return nullptr;
}

}  // namespace

void register_channel_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("chanNew", js_chan_new, tc),
      WEFT_FN("chanInfo", js_chan_info, tc),
      WEFT_FN("chanLen", js_chan_len, tc),
      WEFT_FN("chanClosed", js_chan_closed, tc),
      WEFT_FN("chanClose", js_chan_close, tc),
      WEFT_FN("chanTrySend", js_chan_try_send, tc),
      WEFT_FN("chanSendSync", js_chan_send_sync, tc),
      WEFT_FN("chanSend", js_chan_send, tc),
      WEFT_FN("chanTryRecv", js_chan_try_recv, tc),
      WEFT_FN("chanRecvSync", js_chan_recv_sync, tc),
      WEFT_FN("chanRecv", js_chan_recv, tc),
      WEFT_FN("chanRing", js_chan_ring, tc),
      WEFT_FN("chanNotify", js_chan_notify, tc),
      WEFT_FN("sendRecord", js_send_record, tc),
      WEFT_FN("cancel", js_cancel, tc),
      WEFT_FN("weaken", js_weaken, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
