// bind_sync.h — the Node-API functions behind the sync primitives, atomics and dump().
#pragma once

#include <node_api.h>

#include <cstdint>

namespace weft {

class ThreadCtx;
// WaitGroup, Semaphore, Cond, Once (bind_sync.cc); also registers the Mutex/RWMutex ones.
void register_sync_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// Mutex and RWMutex (bind_mutex.cc).
void register_mutex_functions(napi_env env, napi_value exports, ThreadCtx* tc);
void register_atomic_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// Whether the thread with this weft thread id still has a live environment (dump()).
bool thread_alive(uint64_t id);

}  // namespace weft
