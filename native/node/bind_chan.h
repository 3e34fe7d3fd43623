// bind_chan.h — the Node-API functions behind Chan and select (raw Node-API on the hot
// paths: each channel operation is one native call).
#pragma once

#include <node_api.h>

namespace weft {

class ThreadCtx;

void register_channel_functions(napi_env env, napi_value exports, ThreadCtx* tc);

}  // namespace weft
