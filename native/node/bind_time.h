// js_time.h — the Node-API functions behind Timer/Ticker (timer.h) and Context (context.h).
#pragma once

#include <node_api.h>

namespace weft {

class ThreadCtx;
void register_time_functions(napi_env env, napi_value exports, ThreadCtx* tc);

}  // namespace weft
