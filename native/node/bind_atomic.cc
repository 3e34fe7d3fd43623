// bind_atomic.cc — the Node-API functions behind AtomicInt64/AtomicBool, AtomicValue and
// ProgressMeter.
#include <cmath>

#include "core/sync/atomic.h"
#include "core/time/timer.h"
#include "node/bindings.h"
#include "node/handle.h"
#include "node/marshal.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

namespace {

// ---- atomics -----------------------------------------------------------------------------

constexpr int64_t kMaxSafe = 9007199254740991LL;

bool safe(int64_t v) { return v >= -kMaxSafe && v <= kMaxSafe; }

AtomicCell* cell(napi_env env, napi_value v) {
  return unwrap<AtomicCell>(env, v, Kind::Atomic, Kind::AtomicBool);
}

// atomNew(bigint, isBool) -> handle
napi_value js_atom_new(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  int64_t v = 0;
  bool lossless;
  napi_get_value_bigint_int64(env, a.v[0], &v, &lossless);
  bool is_bool = false;
  napi_get_value_bool(env, a.v[1], &is_bool);
  return make_handle(env, new AtomicCell(v, is_bool ? Kind::AtomicBool : Kind::Atomic));
}

napi_value js_atom_words(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  AtomicCell* c = cell(env, a.v[0]);
  if (!c) return nullptr;
  return words_buffer(env, c, c->data(), abi::kAtomicWordsBytes);
}

// atomOp(h, op, x, y) -> number (NaN: the result or the old value is not a safe integer;
// nothing changed). ops: abi::AtomOp (cas returns 1/0)
napi_value js_atom_op(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  AtomicCell* c = cell(env, a.v[0]);
  if (!c) return nullptr;
  int32_t op = int32_t(dbl(env, a.v[1]));
  int64_t x = int64_t(dbl(env, a.v[2]));
  std::atomic<int64_t>& w = c->word();
  switch (op) {
    case abi::ix(abi::AtomOp::Load): {
      int64_t v = w.load(std::memory_order_seq_cst);
      return num(env, safe(v) ? double(v) : NAN);
    }
    case abi::ix(abi::AtomOp::Store):
      w.store(x, std::memory_order_seq_cst);
      return num(env, double(x));
    case abi::ix(abi::AtomOp::Add): {
      int64_t old = w.load(std::memory_order_relaxed);
      for (;;) {
        int64_t next = old + x;
        if (!safe(next)) return num(env, NAN);
        if (w.compare_exchange_weak(old, next, std::memory_order_seq_cst)) return num(env, double(next));
      }
    }
    case abi::ix(abi::AtomOp::Swap): {
      int64_t old = w.load(std::memory_order_relaxed);
      for (;;) {
        if (!safe(old)) return num(env, NAN);
        if (w.compare_exchange_weak(old, x, std::memory_order_seq_cst)) return num(env, double(old));
      }
    }
    default: {  // abi::AtomOp::Cas
      int64_t e = x;
      int64_t next = int64_t(dbl(env, a.v[3]));
      return num(env, w.compare_exchange_strong(e, next, std::memory_order_seq_cst) ? 1 : 0);
    }
  }
}

// atomAdd(h, d) -> new value, NaN if it would leave the safe range (nothing changed)
napi_value js_atom_add(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  AtomicCell* c = cell(env, a.v[0]);
  if (!c) return nullptr;
  std::atomic<int64_t>& w = c->word();
  int64_t x = int64_t(dbl(env, a.v[1]));
  int64_t old = w.load(std::memory_order_relaxed);
  for (;;) {
    int64_t next = old + x;
    if (!safe(next)) return num(env, NAN);
    if (w.compare_exchange_weak(old, next, std::memory_order_seq_cst)) return num(env, double(next));
  }
}

napi_value js_atom_load(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  AtomicCell* c = cell(env, a.v[0]);
  if (!c) return nullptr;
  int64_t v = c->word().load();
  return num(env, safe(v) ? double(v) : NAN);
}

napi_value js_atom_load_big(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  AtomicCell* c = cell(env, a.v[0]);
  if (!c) return nullptr;
  napi_value r;
  napi_create_bigint_int64(env, c->word().load(std::memory_order_seq_cst), &r);
  return r;
}

// ---- Heartbeat ---------------------------------------------------------------------------
// A Heartbeat is an AtomicCell of its own kind (so it crosses threads as a Heartbeat, not as
// an AtomicInt64): its word holds the CLOCK_MONOTONIC time in ns of the last beat, 0 before
// the first. JavaScript reads and writes it only through Atomics on the words buffer (seq_cst,
// the same hardware atomics as AtomicCell's own accesses; see atomic.h).

// hbNew() -> handle
napi_value js_hb_new(napi_env env, napi_callback_info) {
  return make_handle(env, new AtomicCell(0, Kind::Heartbeat));
}

// hbWords(h) -> the cell's 8 bytes (kAtomicWordsBytes) as an ArrayBuffer
napi_value js_hb_words(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  AtomicCell* c = unwrap<AtomicCell>(env, a.v[0], Kind::Heartbeat);
  if (!c) return nullptr;
  return words_buffer(env, c, c->data(), abi::kAtomicWordsBytes);
}

// ---- AtomicValue -------------------------------------------------------------------------

napi_value js_value_new(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Message* m = message_from(env, a.v[0], a.v[1], a.tc);
  if (!m) return nullptr;
  return make_handle(env, new AtomicValue(m));
}

// valueLoad(h) -> byte length (bytes in scratch, refs via takeRefs()); the version in the
// status area's aux double (kStatusAuxByteOffset)
napi_value js_value_load(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  AtomicValue* v = unwrap<AtomicValue>(env, a.v[0], Kind::Value);
  if (!v) return nullptr;
  napi_value out = nullptr;
  v->read([&](const Message* m, uint64_t version) {
    out = put_message(a.tc, m);
    a.tc->set_aux(double(version));
  });
  return out;
}

napi_value js_value_store(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  AtomicValue* v = unwrap<AtomicValue>(env, a.v[0], Kind::Value);
  if (!v) return nullptr;
  Message* m = message_from(env, a.v[1], a.v[2], a.tc);
  if (!m) return nullptr;
  v->store(m);
  return nullptr;
}

napi_value js_value_cas(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  AtomicValue* v = unwrap<AtomicValue>(env, a.v[0], Kind::Value);
  if (!v) return nullptr;
  Message* m = message_from(env, a.v[2], a.v[3], a.tc);
  if (!m) return nullptr;
  bool ok = v->compare_and_swap(uint64_t(dbl(env, a.v[1])), m);
  if (!ok) delete m;
  return boolean(env, ok);
}

// ---- ProgressMeter -----------------------------------------------------------------------

napi_value js_prog_new(napi_env env, napi_callback_info) {
  return make_handle(env, new ProgressMeter());
}

napi_value js_prog_add(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  ProgressMeter* p = unwrap<ProgressMeter>(env, a.v[0], Kind::Progress);
  if (!p) return nullptr;
  // false: the count would leave the safe-integer range (nothing changed)
  return boolean(env, p->progress(dbl(env, a.v[1], 1), epoch_ms()));
}

// progGet(h) -> [count, at]
napi_value js_prog_get(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  ProgressMeter* p = unwrap<ProgressMeter>(env, a.v[0], Kind::Progress);
  if (!p) return nullptr;
  double count, at;
  p->get(&count, &at);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, count));
  napi_set_element(env, arr, 1, num(env, at));
  return arr;
}

}  // namespace

void register_atomic_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("atomNew", js_atom_new, tc),
      WEFT_FN("atomWords", js_atom_words, tc),
      WEFT_FN("atomOp", js_atom_op, tc),
      WEFT_FN("atomLoadBig", js_atom_load_big, tc),
      WEFT_FN("atomAdd", js_atom_add, tc),
      WEFT_FN("atomLoad", js_atom_load, tc),
      WEFT_FN("hbNew", js_hb_new, tc),
      WEFT_FN("hbWords", js_hb_words, tc),
      WEFT_FN("valueNew", js_value_new, tc),
      WEFT_FN("valueLoad", js_value_load, tc),
      WEFT_FN("valueStore", js_value_store, tc),
      WEFT_FN("valueCas", js_value_cas, tc),
      WEFT_FN("progNew", js_prog_new, tc),
      WEFT_FN("progAdd", js_prog_add, tc),
      WEFT_FN("progGet", js_prog_get, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
