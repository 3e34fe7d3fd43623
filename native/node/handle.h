// handle.h — the JavaScript side of a shared object: a Node-API external that owns one
// reference. Its finalizer (run by the GC on the owning thread) drops the reference. Handles
// are private to weft's JavaScript layer (WeftObject._h), which checks object types at the
// API boundary; an external is the cheapest value to turn back into a pointer per call.
#pragma once

#include <node_api.h>

#include "core/shared.h"

namespace weft {

// A new JS handle adopting one owned reference to s.
napi_value make_handle(napi_env env, Shared* s);
// A new JS handle to s with a reference of its own (s->retain(); the caller keeps its own).
napi_value handle_for(napi_env env, Shared* s);
// Back from a handle to its object: unwrap<T> / peek<T> in napi_util.h, next to Args.

// ---- references held by this thread's JavaScript (see deadlock.cc) ----------------------
// Every JS handle and every external ArrayBuffer that owns a reference is counted per thread,
// so the thread can tell its own references from other holders'. Only the owning thread
// touches its counts (creation and finalizers both run there), so they need no lock.
void held_add(Shared* s);
void held_drop(Shared* s);
// The thread's environment is going away: its counts are freed once its last finalizer ran.
void held_thread_exit();
// References the calling thread's JavaScript holds on s.
int64_t held_count(Shared* s);
// Visits every object of a kind that holds others (context, timer, ticker, cond) that the
// calling thread's JavaScript holds.
void held_holders_for_each(void (*fn)(void* arg, Shared* s), void* arg);

// Module functions: share(h) -> id, attach(id) -> handle | null, kindOf(h), liveObjects().
napi_value js_share(napi_env env, napi_callback_info info);
napi_value js_attach(napi_env env, napi_callback_info info);
napi_value js_kind_of(napi_env env, napi_callback_info info);
napi_value js_live_objects(napi_env env, napi_callback_info info);
napi_value js_take_refs(napi_env env, napi_callback_info info);

}  // namespace weft
