// napi_util.cc — see napi_util.h.
#include "node/napi_util.h"

#include <cstring>
#include <memory>

#include "node/handle.h"
#include "core/park/parker.h"

namespace weft {

void throw_for_exception(napi_env env, std::exception_ptr e) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    napi_throw_range_error(env, "ERR_MEMORY_ALLOCATION_FAILED",
                           "weft: out of memory (a size in this call cannot be allocated)");
  } catch (const std::length_error&) {
    napi_throw_range_error(env, "ERR_MEMORY_ALLOCATION_FAILED",
                           "weft: a size in this call is too large to allocate");
  } catch (const std::exception& x) {
    std::string msg = std::string("weft: internal error: ") + x.what();
    napi_throw_error(env, nullptr, msg.c_str());
  } catch (...) {
    napi_throw_error(env, nullptr, "weft: internal error");
  }
}

Shared* shared_of(napi_env env, napi_value v, Kind kind, Kind alt) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == nullptr) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a weft handle");
    return nullptr;
  }
  auto* s = static_cast<Shared*>(data);
  if (s->kind() != kind && (alt == Kind(0) || s->kind() != alt)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a weft handle of another kind");
    return nullptr;
  }
  return s;
}

napi_value num(napi_env env, double d) {
  napi_value r;
  napi_create_double(env, d, &r);
  return r;
}

napi_value i32(napi_env env, int32_t x) {
  napi_value r;
  napi_create_int32(env, x, &r);
  return r;
}

napi_value boolean(napi_env env, bool b) {
  napi_value r;
  napi_get_boolean(env, b, &r);
  return r;
}

double dbl(napi_env env, napi_value v, double dflt) {
  double d;
  return napi_get_value_double(env, v, &d) == napi_ok ? d : dflt;
}

uint64_t to_u64(double d) {
  if (!(d > 0)) return 0;
  if (d >= 18446744073709551616.0) return UINT64_MAX;
  return uint64_t(d);
}

std::string str(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_string) return "";
  size_t len = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &len);
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

uint64_t deadline_after(double ms) {
  if (!(ms >= 0) || ms > 3.0e12) return 0;
  uint64_t d = now_ns() + uint64_t(ms * 1e6);
  return d == 0 ? 1 : d;
}

Message* message_from(napi_env env, napi_value bytes, napi_value refs) {
  napi_typedarray_type tt;
  size_t len = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, bytes, &tt, &len, &data, nullptr, nullptr) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "bad encoded value");
    return nullptr;
  }
  auto m = std::make_unique<Message>();  // freed (with the refs it took) if a step throws
  auto* p = static_cast<uint8_t*>(data);
  m->bytes.assign(p, p + len);
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
    Shared* s = unwrap_handle(env, e, Kind(0), "payload holds a bad weft reference");
    if (s == nullptr) return false;
    s->retain();  // the caller's handle keeps s alive during this call
    m->refs.push_back(s);
  }
  return true;
}

napi_value message_to_js(napi_env env, const Message* m) {
  napi_value ab, u8, pair, refs;
  void* data = nullptr;
  size_t n = m ? m->bytes.size() : 0;
  if (napi_create_arraybuffer(env, n, &data, &ab) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending)
      napi_throw_range_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "weft: cannot allocate a value");
    return nullptr;
  }
  if (n) std::memcpy(data, m->bytes.data(), n);
  napi_create_typedarray(env, napi_uint8_array, n, ab, 0, &u8);
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, u8);
  size_t nr = m ? m->refs.size() : 0;
  napi_create_array_with_length(env, nr, &refs);
  for (size_t i = 0; i < nr; i++) {
    m->refs[i]->retain();
    napi_set_element(env, refs, uint32_t(i), make_handle(env, m->refs[i]));
  }
  napi_set_element(env, pair, 1, refs);
  return pair;
}

// An external ArrayBuffer over an object's words; keeps the object alive while it lives.
napi_value words_buffer(napi_env env, Shared* o, void* data, size_t len) {
  o->retain();
  held_add(o);  // this thread's reference (deadlock.cc tells it from other holders')
  napi_value ab;
  napi_status s = napi_create_external_arraybuffer(
      env, data, len,
      [](napi_env, void*, void* hint) {
        held_drop(static_cast<Shared*>(hint));
        static_cast<Shared*>(hint)->release();
      },
      o, &ab);
  if (s != napi_ok) {
    held_drop(o);
    o->release();
    napi_throw_error(env, nullptr, "weft: external ArrayBuffers are not available");
    return nullptr;
  }
  return ab;
}

}  // namespace weft
