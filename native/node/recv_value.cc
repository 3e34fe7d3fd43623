// recv_value.cc — value_to_js and put_message (declared in thread_ctx.h): a value leaving
// native code for JavaScript. Numbers travel inline; a structured value always takes the one
// scratch + refs shape (its length returned, its bytes in the scratch area, its weft objects
// waiting for takeRefs()), whether a sync call, a settled async op, or an object's stored
// value (ctxCause, ctxValue, valueLoad, onceResult) returns it.
#include <cstring>
#include <utility>

#include "core/message.h"
#include "node/handle.h"
#include "node/thread_ctx.h"

namespace weft {

namespace {

// Copies n bytes into scratch and parks refs (owned) for takeRefs(); the length, or nullptr
// with a RangeError pending (refs are released then: the value is lost).
napi_value put(ThreadCtx* tc, const uint8_t* bytes, size_t n, std::vector<Shared*>& refs) {
  if (!tc->ensure_scratch(n)) {
    for (Shared* s : refs) s->release();
    refs.clear();
    return nullptr;
  }
  if (n) std::memcpy(tc->scratch, bytes, n);
  for (Shared* s : tc->last_refs) s->release();  // refs nobody took (should not happen)
  tc->last_refs.clear();
  tc->last_refs.swap(refs);
  tc->status[abi::ix(abi::StatusSlot::Refs)] = int32_t(tc->last_refs.size());
  napi_value v;
  napi_create_double(tc->env, double(n), &v);
  return v;
}

}  // namespace

napi_value put_message(ThreadCtx* tc, const Message* m) {
  std::vector<Shared*> refs;
  if (m == nullptr) return put(tc, nullptr, 0, refs);
  refs.reserve(m->refs.size());  // may throw std::bad_alloc before anything is retained
  for (Shared* s : m->refs) {
    s->retain();  // the caller's reference to m keeps s alive here
    refs.push_back(s);
  }
  return put(tc, m->bytes.data(), m->bytes.size(), refs);
}

napi_value value_to_js(ThreadCtx* tc, Elem elem, uint64_t bits) {
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
  v = put(tc, m->bytes.data(), m->bytes.size(), m->refs);  // adopts m's references
  delete m;
  return v;
}

}  // namespace weft
