// napi_util.cc — see napi_util.h.
#include "node/napi_util.h"

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

Shared* peek_shared(napi_env env, napi_value v, Kind kind) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == nullptr) return nullptr;
  auto* s = static_cast<Shared*>(data);  // every external weft creates is a Shared (handle.h)
  return kind == Kind(0) || s->kind() == kind ? s : nullptr;
}

Shared* unwrap_shared(napi_env env, napi_value v, Kind kind, Kind alt, const char* what) {
  Shared* s = peek_shared(env, v, Kind(0));
  if (s != nullptr && (kind == Kind(0) || s->kind() == kind || (alt != Kind(0) && s->kind() == alt)))
    return s;
  std::string msg = std::string("expected ") + what;
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg.c_str());
  return nullptr;
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

// An external ArrayBuffer over an object's words; keeps the object alive while it lives, and
// calls on_final(o) (if given) on this thread when the buffer is collected or its environment
// ends, before dropping the reference.
napi_value words_buffer(napi_env env, Shared* o, void* data, size_t len, void (*on_final)(Shared*)) {
  o->retain();
  held_add(o);  // this thread's reference (deadlock.cc tells it from other holders')
  napi_value ab;
  auto final_plain = [](napi_env, void*, void* hint) {
    held_drop(static_cast<Shared*>(hint));
    static_cast<Shared*>(hint)->release();
  };
  napi_status s;
  if (on_final == nullptr) {
    s = napi_create_external_arraybuffer(env, data, len, final_plain, o, &ab);
  } else {
    // The hook travels with the object: one small allocation, freed by the finalizer.
    struct Final {
      Shared* o;
      void (*fn)(Shared*);
    };
    auto* f = new Final{o, on_final};
    s = napi_create_external_arraybuffer(
        env, data, len,
        [](napi_env, void*, void* hint) {
          auto* f = static_cast<Final*>(hint);
          f->fn(f->o);
          held_drop(f->o);
          f->o->release();
          delete f;
        },
        f, &ab);
    if (s != napi_ok) delete f;
  }
  if (s != napi_ok) {
    held_drop(o);
    o->release();
    napi_throw_error(env, nullptr, "weft: external ArrayBuffers are not available");
    return nullptr;
  }
  return ab;
}

}  // namespace weft
