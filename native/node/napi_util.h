// napi_util.h — small helpers shared by the Node-API binding files (bind_*.cc): argument
// fetching and handle unwrapping (Args, unwrap<T>), function registration (WEFT_FN,
// register_functions), number conversion and deadlines. Values to and from JavaScript
// messages: marshal.h.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

#include "core/message.h"
#include "core/shared.h"

namespace weft {

class ThreadCtx;

// The arguments of a call (missing ones are undefined) and this thread's ThreadCtx, which
// every function is registered with as its data.
template <size_t N>
struct Args {
  napi_value v[N > 0 ? N : 1];
  size_t n = N;
  ThreadCtx* tc = nullptr;
  Args(napi_env env, napi_callback_info info) {
    void* data = nullptr;
    napi_get_cb_info(env, info, &n, v, nullptr, &data);
    tc = static_cast<ThreadCtx*>(data);
    if (n < N) {
      napi_value undef;
      napi_get_undefined(env, &undef);
      for (size_t i = n; i < N; i++) v[i] = undef;
    }
  }
};

// ---- handles: the one way back from a JS handle to its object --------------------------------
//
// The object behind handle v, checked: v must be a weft handle (handle.h) of kind `kind` or
// `alt` (Kind(0) for `kind`: any kind). Otherwise null, with a TypeError pending that says
// "expected <what>" (a weft object, a channel, ...).
Shared* unwrap_shared(napi_env env, napi_value v, Kind kind, Kind alt, const char* what);
template <class T = Shared>
T* unwrap(napi_env env, napi_value v, Kind kind, Kind alt = Kind(0),
          const char* what = "a weft handle of another kind") {
  return static_cast<T*>(unwrap_shared(env, v, kind, alt, what));
}
// The same for an optional handle: null and undefined give true with *out = nullptr.
template <class T>
bool unwrap_opt(napi_env env, napi_value v, Kind kind, T** out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  *out = nullptr;
  if (t == napi_null || t == napi_undefined) return true;
  *out = unwrap<T>(env, v, kind);
  return *out != nullptr;
}
// The object behind v if it is a weft handle (of `kind`, unless Kind(0)), else null; never
// throws (kindOf() and optional arguments that are ignored when wrong).
Shared* peek_shared(napi_env env, napi_value v, Kind kind);
template <class T = Shared>
T* peek(napi_env env, napi_value v, Kind kind = Kind(0)) {
  return static_cast<T*>(peek_shared(env, v, kind));
}
// ---- registration: the one way to expose functions -----------------------------------------
//
// Every register_*_functions (bindings.h) builds a table of WEFT_FN entries and passes it here.
template <size_t N>
napi_status register_functions(napi_env env, napi_value exports,
                               const napi_property_descriptor (&table)[N]) {
  return napi_define_properties(env, exports, N, table);
}

// ---- no C++ exception leaves the addon ------------------------------------------------------
//
// The addon is built with C++ exceptions so that an allocation failure (std::bad_alloc, or
// std::length_error for an impossible size) unwinds to the Node-API entry point and becomes a
// JavaScript RangeError there, instead of std::terminate killing the process. Every function
// the addon registers goes through guarded<> (use WEFT_FN in property tables).

// Throws the JS error for a C++ exception caught at an entry point (nothing if the
// environment is terminating or an exception is already pending).
void throw_for_exception(napi_env env, std::exception_ptr e);

template <napi_value (*F)(napi_env, napi_callback_info)>
napi_value guarded(napi_env env, napi_callback_info info) noexcept {
  try {
    return F(env, info);
  } catch (...) {
    throw_for_exception(env, std::current_exception());
    return nullptr;
  }
}

// The module's init: an exception (out of memory while setting up) leaves exports empty.
template <napi_value (*F)(napi_env, napi_value)>
napi_value guarded_init(napi_env env, napi_value exports) noexcept {
  try {
    return F(env, exports);
  } catch (...) {
    return nullptr;
  }
}

// A method entry of a napi_property_descriptor table, guarded.
#define WEFT_FN(name, fn, data) \
  napi_property_descriptor { name, nullptr, ::weft::guarded<fn>, nullptr, nullptr, nullptr, napi_default, data }

napi_value num(napi_env env, double d);
napi_value i32(napi_env env, int32_t x);
napi_value boolean(napi_env env, bool b);
double dbl(napi_env env, napi_value v, double dflt = 0);
// A double as an unsigned integer without undefined behaviour: NaN and values below 0 give 0,
// values at or beyond 2^64 give UINT64_MAX, fractions are truncated.
uint64_t to_u64(double d);
std::string str(napi_env env, napi_value v);  // "" unless v is a string

// Absolute CLOCK_MONOTONIC deadline for a timeout in ms (negative or NaN: none; beyond
// ~100 years: none, it would overflow).
uint64_t deadline_after(double ms);

// An external ArrayBuffer over an object's words (lock words, atomics), mapped into this
// thread's JavaScript; it owns a reference, so the object lives while the buffer does.
napi_value words_buffer(napi_env env, Shared* o, void* data, size_t len,
                        void (*on_final)(Shared*) = nullptr);

}  // namespace weft
