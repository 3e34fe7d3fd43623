// bind_chan.cc — see bind_chan.h.
//
// Calling convention shared with lib/internal/native.ts: results that can fail report a code
// (thread_ctx.h: Code) either as the return value or, when the return value is the received
// value itself, in status.Code of the thread's status area. Structured payloads travel through
// the thread's scratch area (the JS codec writes/reads it); their weft objects travel as
// arrays of handles.
#include "node/bind_chan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/blocked.h"
#include "core/chan/channel.h"
#include "node/handle.h"
#include "node/napi_util.h"
#include "core/chan/select.h"
#include "node/thread_ctx.h"

namespace weft {

namespace {

Channel* chan_of(napi_env env, napi_value v) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == nullptr ||
      static_cast<Shared*>(data)->kind() != Kind::Channel) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a channel handle");
    return nullptr;
  }
  return static_cast<Channel*>(static_cast<Shared*>(data));
}

// Builds a structured Message from the scratch area (v = length) or a Uint8Array, plus the
// weft objects in `refs` (each retained for the message).
bool to_message(napi_env env, ThreadCtx* tc, napi_value v, napi_value refs, uint64_t* out) {
  auto m = std::make_unique<Message>();  // freed (with the refs it took) on any failure
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_number) {
    double len = 0;
    napi_get_value_double(env, v, &len);
    size_t n = size_t(std::min<uint64_t>(to_u64(len), tc->scratch_len));
    m->bytes.assign(tc->scratch, tc->scratch + n);
  } else {
    napi_typedarray_type tt;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, v, &tt, &length, &data, nullptr, nullptr) != napi_ok) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "bad structured payload");
      return false;
    }
    auto* p = static_cast<uint8_t*>(data);
    m->bytes.assign(p, p + length);
  }
  if (!add_refs(env, m.get(), refs)) return false;
  *out = to_bits(m.release());
  return true;
}

// JS value -> slot bits for ch's element type. JS has validated the type and range.
bool to_bits_js(napi_env env, ThreadCtx* tc, Channel* ch, napi_value v, napi_value refs,
                uint64_t* out) {
  switch (ch->elem()) {
    case Elem::F64: {
      double d = 0;
      napi_get_value_double(env, v, &d);
      *out = f64_bits(d);
      return true;
    }
    case Elem::I32: {
      int32_t x = 0;
      napi_get_value_int32(env, v, &x);
      *out = uint32_t(x);
      return true;
    }
    case Elem::I64: {
      int64_t x = 0;
      bool lossless;
      napi_get_value_bigint_int64(env, v, &x, &lossless);
      *out = uint64_t(x);
      return true;
    }
    case Elem::Bool: {
      bool b = false;
      napi_get_value_bool(env, v, &b);
      *out = b ? 1 : 0;
      return true;
    }
    case Elem::Structured:
      return to_message(env, tc, v, refs, out);
  }
  return false;
}

int32_t code_of(WaitStatus st, const SelectOut& out) {
  switch (st) {
    case WaitStatus::kDone:
      return out.res == Channel::Res::kOk ? kCodeOk : kCodeClosed;
    case WaitStatus::kTimeout:
      return kCodeTimeout;
    case WaitStatus::kStopped:
      return kCodeStopped;
    case WaitStatus::kWouldBlock:
      return kCodeWouldBlock;
  }
  return kCodeWouldBlock;
}

int32_t code_of(Channel::Res r) {
  return r == Channel::Res::kOk ? kCodeOk
         : r == Channel::Res::kClosed ? kCodeClosed : kCodeWouldBlock;
}

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
  if (!to_bits_js(env, tc, ch, a.v[1], a.v[2], &bits)) return nullptr;
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
  if (!to_bits_js(env, tc, ch, a.v[1], a.v[2], &bits)) return nullptr;
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
napi_value js_chan_send(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  uint64_t bits;
  if (!to_bits_js(env, tc, ch, a.v[1], a.v[2], &bits)) return nullptr;
  Channel::Res r = ch->try_send(bits);
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
  return value_to_js(tc, ch->elem(), v, false);
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
    return value_to_js(tc, ch->elem(), out.val, false);
  }
  tc->status[abi::ix(abi::StatusSlot::Code)] = code_of(r);
  if (r != Channel::Res::kOk) return nullptr;
  return value_to_js(tc, ch->elem(), v, false);
}

// recv(h) -> value (status.Code ok/closed), or a Promise of [code, index, value] (pending)
napi_value js_chan_recv(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  uint64_t v = 0;
  Channel::Res r = ch->try_recv(&v);
  if (r != Channel::Res::kWouldBlock) {
    tc->status[abi::ix(abi::StatusSlot::Code)] = code_of(r);
    if (r != Channel::Res::kOk) return nullptr;
    return value_to_js(tc, ch->elem(), v, false);
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

size_t elem_size(Elem e) { return e == Elem::I32 ? 4 : e == Elem::Bool ? 1 : 8; }

uint64_t load_elem(Elem e, const uint8_t* p, size_t i) {
  switch (e) {
    case Elem::I32: {
      int32_t x;
      std::memcpy(&x, p + i * 4, 4);
      return uint32_t(x);
    }
    case Elem::Bool:
      return p[i] ? 1 : 0;
    default: {
      uint64_t x;
      std::memcpy(&x, p + i * 8, 8);
      return x;
    }
  }
}

void store_elem(Elem e, uint8_t* p, size_t i, uint64_t bits) {
  switch (e) {
    case Elem::I32: {
      uint32_t x = uint32_t(bits);
      std::memcpy(p + i * 4, &x, 4);
      return;
    }
    case Elem::Bool:
      p[i] = bits ? 1 : 0;
      return;
    default:
      std::memcpy(p + i * 8, &bits, 8);
  }
}

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
  napi_typedarray_type tt = e == Elem::F64   ? napi_float64_array
                            : e == Elem::I32 ? napi_int32_array
                            : e == Elem::I64 ? napi_bigint64_array
                                              : napi_uint8_array;
  napi_create_typedarray(env, tt, n, ab, 0, &ta);
  // A huge batch does not stay allocated for the thread's lifetime.
  if (buf.size() > kKeepBatch) std::vector<uint64_t>().swap(buf);
  return ta;
}

// select(handles[] (null: nil case), sendMask, values[], refs[], mode, timeout)
// sendMask: a number whose bit i marks case i as a send (up to 52 cases), or an array of
// booleans. mode: abi::SelectMode (Try once, Block, Async). Try and Block (and Async when a
// case is ready at once) return the received value as recvSync does, with status.Code = code
// and status.SelectIndex = case index; a pending Async returns a Promise of [code, index,
// value] (async form).
napi_value js_select(napi_env env, napi_callback_info info) {
  Args<6> a(env, info);
  ThreadCtx* tc = a.tc;
  uint32_t n = 0;
  napi_get_array_length(env, a.v[0], &n);
  int32_t mode = 0;
  napi_get_value_int32(env, a.v[4], &mode);
  double mask = 0;
  bool mask_is_num = napi_get_value_double(env, a.v[1], &mask) == napi_ok;
  uint64_t bits = mask_is_num ? to_u64(mask) : 0;
  constexpr uint32_t kSmall = 8;
  CaseRec small[kSmall];
  std::unique_ptr<CaseRec[]> big;
  CaseRec* recs = small;
  if (n > kSmall) {
    big.reset(new CaseRec[n]);
    recs = big.get();
  }
  auto drop_all = [&]() {
    for (uint32_t i = 0; i < n; i++)
      if (recs[i].ch && recs[i].is_send) drop_value(recs[i].ch->elem(), recs[i].val);
  };
  for (uint32_t i = 0; i < n; i++) {
    napi_value h;
    napi_get_element(env, a.v[0], i, &h);
    napi_valuetype t;
    napi_typeof(env, h, &t);
    if (t == napi_null) continue;  // nil case
    Channel* ch = chan_of(env, h);
    if (!ch) {
      drop_all();
      return nullptr;
    }
    bool is_send;
    if (mask_is_num) {
      is_send = i < 64 && ((bits >> i) & 1) != 0;  // no shift past the width (UB)
    } else {
      napi_value e;
      napi_get_element(env, a.v[1], i, &e);
      napi_get_value_bool(env, e, &is_send);
    }
    recs[i].ch = ch;
    recs[i].is_send = is_send;
    if (is_send) {
      napi_value v, refs;
      napi_get_element(env, a.v[2], i, &v);
      napi_get_element(env, a.v[3], i, &refs);
      if (!to_bits_js(env, tc, ch, v, refs, &recs[i].val)) {
        recs[i].ch = nullptr;
        drop_all();
        return nullptr;
      }
    }
  }
  SelectOut out;
  int32_t code;
  if (mode == abi::ix(abi::SelectMode::Async)) {
    if (select_try(recs, int32_t(n), &tc->rng, &out)) {
      code = out.res == Channel::Res::kOk ? kCodeOk : kCodeClosed;
    } else {
      std::unique_ptr<AsyncOp> op;
      try {
        op = std::make_unique<AsyncOp>();
        op->recs.assign(recs, recs + n);
      } catch (...) {
        drop_all();  // the payloads taken for the send cases
        throw;
      }
      op->is_select = true;
      tc->status[abi::ix(abi::StatusSlot::Code)] = kCodePending;
      return tc->start_async(op.release());
    }
  } else if (mode == abi::ix(abi::SelectMode::Block)) {
    Waiter w;
    Shared* first = nullptr;
    for (uint32_t i = 0; i < n && first == nullptr; i++) first = recs[i].ch;
    ParkInfo info{{tc->thread_id, "select", first, 0, true}};
    ParkHook hook{&ParkInfo::hook, &info};
    code = code_of(select_block(&w, recs, int32_t(n), true, deadline_after(dbl(env, a.v[5], -1)),
                                &ThreadCtx::stop_probe, tc, &tc->rng, &out, &tc->spin_ns,
                                first != nullptr ? &hook : nullptr),
                   out);
  } else {
    code = select_try(recs, int32_t(n), &tc->rng, &out)
               ? (out.res == Channel::Res::kOk ? kCodeOk : kCodeClosed)
               : kCodeWouldBlock;
  }
  drop_all();
  tc->status[abi::ix(abi::StatusSlot::Code)] = code;
  tc->status[abi::ix(abi::StatusSlot::SelectIndex)] = out.index;
  if (code == kCodeOk && out.index >= 0 && !recs[out.index].is_send)
    return value_to_js(tc, recs[out.index].ch->elem(), out.val, false);
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
  napi_property_descriptor props[] = {
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
      WEFT_FN("select", js_select, tc),
      WEFT_FN("cancel", js_cancel, tc),
      WEFT_FN("weaken", js_weaken, tc),
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace weft
