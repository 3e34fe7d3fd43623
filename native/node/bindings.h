// bindings.h — the register functions of every binding file: each adds its area's functions to
// the module's exports (a WEFT_FN table passed to register_functions, napi_util.h). addon.cc
// calls them all at init with this thread's ThreadCtx as every function's data.
#pragma once

#include <node_api.h>

namespace weft {

class ThreadCtx;

// bind_chan.cc: Chan operations, and cancel/weaken of pending async operations.
void register_channel_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_many.cc: Chan's batch operations (sendMany, recvMany, recvManyInto).
void register_batch_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_select.cc: select().
void register_select_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_sync.cc: Mutex, RWMutex, WaitGroup, Semaphore, Cond, Once (also in bind_sync.h).
void register_sync_functions(napi_env env, napi_value exports, ThreadCtx* tc);
void register_mutex_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_atomic.cc: AtomicInt64/AtomicBool, AtomicValue, ProgressMeter.
void register_atomic_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_dump.cc: dump(), threadId(), lastError(), object names.
void register_dump_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_timer.cc: Timer/Ticker (core/time/timer.h).
void register_timer_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_context.cc: Context (core/time/context.h).
void register_context_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_payload.cc: SharedArrayBuffer / WebAssembly.Module payloads of structured messages.
void register_payload_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// deadlock.cc: opDepends(id, doneHandle | null), what besides its objects can end a pending op.
void register_unreach_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_runtime.cc: the goroutine runtime's task table, root slot and hand-off signal.
void register_runtime_functions(napi_env env, napi_value exports, ThreadCtx* tc);
// bind_rate.cc: RateLimiter (core/sync/rate.h).
void register_rate_functions(napi_env env, napi_value exports, ThreadCtx* tc);

}  // namespace weft
