// recv_value.cc — value_to_js (declared in thread_ctx.h): a received channel value as
// JavaScript, for a *Sync receive (through the thread's scratch area) or a Promise result.
#include <cstring>

#include "core/message.h"
#include "node/handle.h"
#include "node/thread_ctx.h"

namespace weft {

napi_value value_to_js(ThreadCtx* tc, Elem elem, uint64_t bits, bool for_async) {
  napi_env env = tc->env;
  napi_value v;
  switch (elem) {
    case Elem::F64:
      napi_create_double(env, bits_f64(bits), &v);
      return v;
    case Elem::I32:
      napi_create_int32(env, int32_t(uint32_t(bits)), &v);
      return v;
    case Elem::I64:
      napi_create_bigint_int64(env, int64_t(bits), &v);
      return v;
    case Elem::Bool:
      napi_get_boolean(env, bits != 0, &v);
      return v;
    case Elem::Structured:
      break;
  }
  Message* m = to_message(bits);
  size_t n = m->bytes.size();
  if (!for_async) {
    if (!tc->ensure_scratch(n)) {  // RangeError pending; the value is lost
      delete m;
      return nullptr;
    }
    if (n) std::memcpy(tc->scratch, m->bytes.data(), n);
    for (Shared* s : tc->last_refs) s->release();  // refs nobody took (should not happen)
    tc->last_refs.swap(m->refs);
    m->refs.clear();
    tc->status[abi::ix(abi::StatusSlot::Refs)] = int32_t(tc->last_refs.size());
    delete m;
    napi_create_double(env, double(n), &v);
    return v;
  }
  napi_value ab, u8, pair, refs;
  void* data = nullptr;
  if (napi_create_arraybuffer(env, n, &data, &ab) != napi_ok) {
    delete m;  // caller (make_result -> settle) rejects with what is pending, or a RangeError
    return nullptr;
  }
  if (n) std::memcpy(data, m->bytes.data(), n);
  napi_create_typedarray(env, napi_uint8_array, n, ab, 0, &u8);
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, u8);
  if (!m->refs.empty()) {
    napi_create_array_with_length(env, m->refs.size(), &refs);
    for (size_t i = 0; i < m->refs.size(); i++) {
      napi_set_element(env, refs, uint32_t(i), make_handle(env, m->refs[i]));
    }
    m->refs.clear();  // adopted by the handles
    napi_set_element(env, pair, 1, refs);
  }
  delete m;
  return pair;
}

}  // namespace weft
