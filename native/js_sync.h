// js_sync.h — the Node-API functions behind the sync primitives, atomics and dump().
#pragma once

#include <node_api.h>

namespace weft {

class ThreadCtx;
void register_sync_functions(napi_env env, napi_value exports, ThreadCtx* tc);
void register_atomic_functions(napi_env env, napi_value exports, ThreadCtx* tc);

}  // namespace weft
