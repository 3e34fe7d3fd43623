// bind_chan.cc — the Node-API functions behind Chan (one native call per channel operation;
// select is in bind_select.cc, value conversion in marshal.cc), and cancel/weaken of any
// pending async operation.
//
// Calling convention shared with lib/internal/native.ts: results that can fail report a code
// (thread_ctx.h: Code) either as the return value or, when the return value is the received
// value itself, in status.Code of the thread's status area. Structured payloads travel through
// the thread's scratch area (the JS codec writes/reads it); their weft objects travel as
// arrays of handles.
#include <algorithm>
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

namespace {

// Blocks the calling thread on a single case.
WaitStatus block_one(ThreadCtx* tc, Channel* ch, bool is_send, uint64_t* val,
                     uint64_t deadline, SelectOut* out) {
  CaseRec rec;
  rec.ch = ch;
  rec.is_send = is_send;
  rec.val = is_send ? *val : 0;
  Waiter w;
  ParkInfo info{{tc->thread_id, is_send ? "send" : "recv", ch, 0, true}};
  ParkHook hook{&ParkInfo::hook, &info};
  WaitStatus st = select_block(&w, &rec, 1, true, deadline, &ThreadCtx::stop_probe, tc,
                               &tc->rng, out, &tc->spin_ns, &hook);
  if (is_send) *val = rec.val;  // 0 once the channel took a structured payload
  return st;
}

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

// recvMany's staging buffer is kept between calls up to this many values.
constexpr size_t kKeepBatch = 64 * 1024;

// sendMany(h, typedArray, timeoutMs, block) -> number sent; status.Code = code of the stop
napi_value js_chan_send_many(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  napi_typedarray_type tt;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, a.v[1], &tt, &length, &data, nullptr, nullptr) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "values must be a typed array");
    return nullptr;
  }
  bool block = false;
  napi_get_value_bool(env, a.v[3], &block);
  uint64_t deadline = block ? deadline_after(dbl(env, a.v[2], -1)) : 0;
  auto* p = static_cast<const uint8_t*>(data);
  Elem e = ch->elem();
  constexpr size_t kChunk = 512;
  uint64_t bits[kChunk];
  size_t i = 0;
  int32_t code = kCodeOk;
  while (i < length) {
    size_t m = std::min(kChunk, length - i);
    for (size_t j = 0; j < m; j++) bits[j] = load_elem(e, p, i + j);
    size_t off = 0;
    while (off < m) {
      Channel::Res r;
      size_t k = ch->try_send_many(bits + off, m - off, &r);
      off += k;
      if (k > 0) continue;
      if (r == Channel::Res::kClosed || !block) {
        code = code_of(r);
        break;
      }
      SelectOut out;
      code = code_of(block_one(tc, ch, true, &bits[off], deadline, &out), out);
      if (code != kCodeOk) break;
      off++;
    }
    i += off;
    if (code != kCodeOk) break;
  }
  tc->status[abi::ix(abi::StatusSlot::Code)] = code;
  return num(env, double(i));
}

// recvMany(h, max, timeoutMs, block) -> typed array (maybe empty); status.Code = code
napi_value js_chan_recv_many(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  double maxd = 0;
  napi_get_value_double(env, a.v[1], &maxd);
  bool block = false;
  napi_get_value_bool(env, a.v[3], &block);
  // max may be huge (the JS API allows any count): allocate for what actually arrives, never
  // for max. The staging buffer grows geometrically as values come in.
  size_t max = maxd >= 1 ? (maxd < 9007199254740992.0 ? size_t(maxd) : size_t(1) << 53) : 0;
  Elem e = ch->elem();
  size_t es = elem_size(e);
  std::vector<uint64_t>& buf = tc->batch;
  constexpr size_t kFirst = 256;
  auto room = [&](size_t n) {  // free slots in buf after n values, growing it if full
    if (n == buf.size()) {
      size_t want = std::min(max, std::max(kFirst, buf.size() * 2));
      if (want > buf.size()) buf.resize(want);
    }
    return std::min(max, buf.size()) - n;
  };
  size_t n = 0;
  int32_t code = kCodeOk;
  while (n < max) {
    Channel::Res r;
    size_t k = ch->try_recv_many(buf.data() + n, room(n), &r);
    n += k;
    if (k > 0) continue;
    if (n > 0 || r == Channel::Res::kClosed || !block) {
      if (n == 0) code = code_of(r);
      break;
    }
    room(n);  // before blocking: the received value must have a place (no throw after)
    SelectOut out;
    code = code_of(block_one(tc, ch, false, nullptr, deadline_after(dbl(env, a.v[2], -1)), &out), out);
    if (code != kCodeOk) break;
    buf[n++] = out.val;
  }
  tc->status[abi::ix(abi::StatusSlot::Code)] = code;
  // A thread being torn down cannot create JS values any more (the calls would fail and
  // leave their outputs unset): return nothing.
  if (code == kCodeStopped) return nullptr;
  napi_value ab, ta;
  void* dst = nullptr;
  if (napi_create_arraybuffer(env, n * es, &dst, &ab) != napi_ok) {
    if (buf.size() > kKeepBatch) std::vector<uint64_t>().swap(buf);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending)
      napi_throw_range_error(env, "ERR_MEMORY_ALLOCATION_FAILED",
                             "weft: cannot allocate the values received by recvMany");
    return nullptr;
  }
  auto* d = static_cast<uint8_t*>(dst);
  if (es == 8) {
    if (n) std::memcpy(d, buf.data(), n * 8);
  } else {
    for (size_t j = 0; j < n; j++) store_elem(e, d, j, buf[j]);
  }
  napi_create_typedarray(env, elem_array_type(e), n, ab, 0, &ta);
  // A huge batch does not stay allocated for the thread's lifetime.
  if (buf.size() > kKeepBatch) std::vector<uint64_t>().swap(buf);
  return ta;
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
      WEFT_FN("chanSendMany", js_chan_send_many, tc),
      WEFT_FN("chanRecvMany", js_chan_recv_many, tc),
      WEFT_FN("chanRing", js_chan_ring, tc),
      WEFT_FN("chanNotify", js_chan_notify, tc),
      WEFT_FN("sendRecord", js_send_record, tc),
      WEFT_FN("cancel", js_cancel, tc),
      WEFT_FN("weaken", js_weaken, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
