// bind_select.cc — the Node-API function behind select() (lib/chan/select.ts): one call
// builds the case records, then tries once, blocks the thread, or starts an async op.
#include <memory>

#include "core/chan/channel.h"
#include "core/chan/select.h"
#include "node/bind_chan.h"
#include "node/bindings.h"
#include "node/marshal.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

namespace {

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
      if (!value_to_bits(env, tc, ch->elem(), v, refs, &recs[i].val)) {
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
    uint64_t deadline = deadline_after(dbl(env, a.v[5], -1));
    ThreadCtx::SyncWait sw{tc, &w, recs, int32_t(n), deadline == 0 && tc->is_main, "select"};
    WaitStatus st = select_block(&w, recs, int32_t(n), true, deadline, &ThreadCtx::sync_probe, &sw,
                                 &tc->rng, &out, &tc->spin_ns, first != nullptr ? &hook : nullptr);
    if (sw.asleep && st == WaitStatus::kStopped && !tc->stopping) st = WaitStatus::kAsleep;
    code = code_of(st, out);
  } else {
    code = select_try(recs, int32_t(n), &tc->rng, &out)
               ? (out.res == Channel::Res::kOk ? kCodeOk : kCodeClosed)
               : kCodeWouldBlock;
  }
  drop_all();
  tc->status[abi::ix(abi::StatusSlot::Code)] = code;
  tc->status[abi::ix(abi::StatusSlot::SelectIndex)] = out.index;
  if (code == kCodeOk && out.index >= 0 && !recs[out.index].is_send)
    return value_to_js(tc, recs[out.index].ch->elem(), out.val);
  return nullptr;
}

}  // namespace

void register_select_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("select", js_select, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
