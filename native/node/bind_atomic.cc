// bind_atomic.cc — the Node-API functions behind AtomicInt64/AtomicBool, AtomicValue,
// ProgressMeter, and the diagnostics (dump(), threadId(), names).
#include "node/bind_sync.h"

#include <cmath>
#include <string>

#include "core/blocked.h"
#include "core/sync/atomic.h"
#include "node/handle.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"
#include "core/time/timer.h"

namespace weft {

namespace {

// ---- atomics -----------------------------------------------------------------------------

constexpr int64_t kMaxSafe = 9007199254740991LL;

bool safe(int64_t v) { return v >= -kMaxSafe && v <= kMaxSafe; }

AtomicCell* cell(napi_env env, napi_value v) {
  return obj<AtomicCell>(env, v, Kind::Atomic, Kind::AtomicBool);
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
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data = nullptr;
  napi_get_value_external(env, argv[0], &data);
  double d = 0;
  napi_get_value_double(env, argv[1], &d);
  std::atomic<int64_t>& w = static_cast<AtomicCell*>(static_cast<Shared*>(data))->word();
  int64_t x = int64_t(d);
  int64_t old = w.load(std::memory_order_relaxed);
  for (;;) {
    int64_t next = old + x;
    if (!safe(next)) return num(env, NAN);
    if (w.compare_exchange_weak(old, next, std::memory_order_seq_cst)) return num(env, double(next));
  }
}

napi_value js_atom_load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data = nullptr;
  napi_get_value_external(env, argv[0], &data);
  int64_t v = static_cast<AtomicCell*>(static_cast<Shared*>(data))->word().load();
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

// ---- AtomicValue -------------------------------------------------------------------------

napi_value js_value_new(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Message* m = message_from(env, a.v[0], a.v[1]);
  if (!m) return nullptr;
  return make_handle(env, new AtomicValue(m));
}

// valueLoad(h) -> [Uint8Array, refs, version]
napi_value js_value_load(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  AtomicValue* v = obj<AtomicValue>(env, a.v[0], Kind::Value);
  if (!v) return nullptr;
  napi_value out = nullptr;
  v->read([&](const Message* m, uint64_t version) {
    out = message_to_js(env, m);
    napi_set_element(env, out, 2, num(env, double(version)));
  });
  return out;
}

napi_value js_value_store(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  AtomicValue* v = obj<AtomicValue>(env, a.v[0], Kind::Value);
  if (!v) return nullptr;
  Message* m = message_from(env, a.v[1], a.v[2]);
  if (!m) return nullptr;
  v->store(m);
  return nullptr;
}

napi_value js_value_cas(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  AtomicValue* v = obj<AtomicValue>(env, a.v[0], Kind::Value);
  if (!v) return nullptr;
  Message* m = message_from(env, a.v[2], a.v[3]);
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
  ProgressMeter* p = obj<ProgressMeter>(env, a.v[0], Kind::Progress);
  if (!p) return nullptr;
  // false: the count would leave the safe-integer range (nothing changed)
  return boolean(env, p->progress(dbl(env, a.v[1], 1), epoch_ms()));
}

// progGet(h) -> [count, at]
napi_value js_prog_get(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  ProgressMeter* p = obj<ProgressMeter>(env, a.v[0], Kind::Progress);
  if (!p) return nullptr;
  double count, at;
  p->get(&count, &at);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, count));
  napi_set_element(env, arr, 1, num(env, at));
  return arr;
}

// ---- diagnostics -------------------------------------------------------------------------

napi_value js_dump(napi_env env, napi_callback_info) {
  auto list = blocked_snapshot();
  uint64_t now = now_ns();
  napi_value arr;
  napi_create_array_with_length(env, list.size(), &arr);
  for (size_t i = 0; i < list.size(); i++) {
    napi_value o, s;
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "thread", num(env, double(list[i].thread)));
    napi_create_string_utf8(env, list[i].op.c_str(), NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, o, "op", s);
    napi_create_string_utf8(env, list[i].object.c_str(), NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, o, "object", s);
    napi_set_named_property(env, o, "sinceMs", num(env, double(now - list[i].since_ns) / 1e6));
    if (list[i].holder != 0) {  // a Mutex or RWMutex write lock: who holds it, and is it alive
      napi_set_named_property(env, o, "holder", num(env, double(list[i].holder)));
      napi_set_named_property(env, o, "holderExited",
                              boolean(env, !thread_alive(list[i].holder)));
    }
    napi_set_element(env, arr, uint32_t(i), o);
  }
  return arr;
}

napi_value js_last_error(napi_env env, napi_callback_info info) {
  Args<0> a(env, info);
  napi_value s;
  napi_create_string_utf8(env, a.tc->last_error.c_str(), NAPI_AUTO_LENGTH, &s);
  return s;
}

napi_value js_thread_id(napi_env env, napi_callback_info info) {
  Args<0> a(env, info);
  return num(env, double(a.tc->thread_id));
}

// objName(h) -> the name given at creation ("" if none), on any thread
napi_value js_obj_name(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Shared* s = unwrap_handle(env, a.v[0], Kind(0), "expected a weft object");
  if (!s) return nullptr;
  napi_value r;
  napi_create_string_utf8(env, s->name().c_str(), s->name().size(), &r);
  return r;
}

napi_value js_set_name(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Shared* s = unwrap_handle(env, a.v[0], Kind(0), "expected a weft object");
  if (!s) return nullptr;
  s->set_name(str(env, a.v[1]));
  return nullptr;
}

}  // namespace

void register_atomic_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
#define FN(name, fn) WEFT_FN(name, fn, tc)  // guarded: no C++ exception reaches Node
  napi_property_descriptor props[] = {
      FN("atomNew", js_atom_new), FN("atomWords", js_atom_words), FN("atomOp", js_atom_op),
      FN("atomLoadBig", js_atom_load_big), FN("atomAdd", js_atom_add), FN("atomLoad", js_atom_load),
      FN("valueNew", js_value_new), FN("valueLoad", js_value_load),
      FN("valueStore", js_value_store), FN("valueCas", js_value_cas),
      FN("progNew", js_prog_new), FN("progAdd", js_prog_add), FN("progGet", js_prog_get),
      FN("dump", js_dump), FN("lastError", js_last_error), FN("threadId", js_thread_id),
      FN("setName", js_set_name), FN("objName", js_obj_name),
  };
#undef FN
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace weft
