// marshal.cc — see marshal.h.
#include "node/marshal.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "node/handle.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

Message* message_from(napi_env env, napi_value bytes, napi_value refs, ThreadCtx* tc) {
  auto m = std::make_unique<Message>();  // freed (with the refs it took) on any failure
  napi_valuetype t;
  napi_typeof(env, bytes, &t);
  if (t == napi_number && tc != nullptr) {  // the codec wrote the bytes into scratch
    double len = 0;
    napi_get_value_double(env, bytes, &len);
    size_t n = size_t(std::min<uint64_t>(to_u64(len), tc->scratch_len));
    m->bytes.assign(tc->scratch, tc->scratch + n);
  } else {
    napi_typedarray_type tt;
    size_t len = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, bytes, &tt, &len, &data, nullptr, nullptr) != napi_ok) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "bad encoded value");
      return nullptr;
    }
    auto* p = static_cast<uint8_t*>(data);
    m->bytes.assign(p, p + len);
  }
  if (!add_refs(env, m.get(), refs)) return nullptr;
  return m.release();
}

bool add_refs(napi_env env, Message* m, napi_value refs) {
  napi_valuetype t;
  napi_typeof(env, refs, &t);
  if (t != napi_object) return true;
  uint32_t n = 0;
  napi_get_array_length(env, refs, &n);
  m->refs.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, refs, i, &e);
    Shared* s = unwrap(env, e, Kind(0), Kind(0), "a weft object among a payload's references");
    if (s == nullptr) return false;
    s->retain();  // the caller's handle keeps s alive during this call
    m->refs.push_back(s);
  }
  return true;
}

bool value_to_bits(napi_env env, ThreadCtx* tc, Elem elem, napi_value v, napi_value refs,
                   uint64_t* out) {
  switch (elem) {
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
    case Elem::Structured: {
      Message* m = message_from(env, v, refs, tc);
      if (m == nullptr) return false;
      *out = to_bits(m);
      return true;
    }
  }
  return false;
}

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

napi_typedarray_type elem_array_type(Elem e) {
  return e == Elem::F64   ? napi_float64_array
         : e == Elem::I32 ? napi_int32_array
         : e == Elem::I64 ? napi_bigint64_array
                          : napi_uint8_array;
}

}  // namespace weft
