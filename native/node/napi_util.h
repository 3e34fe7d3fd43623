// napi_util.h — small helpers shared by the Node-API binding files (js_*.cc): argument
// fetching, value conversion, deadlines, and structured messages to and from JavaScript.
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

// The object behind a handle if its kind is `kind` (or `alt`), else null with a TypeError.
Shared* shared_of(napi_env env, napi_value v, Kind kind, Kind alt = Kind(0));
template <class T>
T* obj(napi_env env, napi_value v, Kind kind, Kind alt = Kind(0)) {
  return static_cast<T*>(shared_of(env, v, kind, alt));
}

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

// Retains the weft objects of `refs` (handles[] | undefined) into m->refs; false with a
// TypeError pending if one is not a handle (m keeps what it took; deleting m releases it).
bool add_refs(napi_env env, Message* m, napi_value refs);
// A Message from (Uint8Array, handles[] | undefined); null with a TypeError pending if bad.
Message* message_from(napi_env env, napi_value bytes, napi_value refs);
// [Uint8Array copy, handles[]] of a message it keeps (each handle takes its own reference).
napi_value message_to_js(napi_env env, const Message* m);

// An external ArrayBuffer over an object's words (lock words, atomics), mapped into this
// thread's JavaScript; it owns a reference, so the object lives while the buffer does.
napi_value words_buffer(napi_env env, Shared* o, void* data, size_t len);

}  // namespace weft
