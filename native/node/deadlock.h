// deadlock.h — rejection of Promise operations that no thread can ever complete (Go's "all
// goroutines are asleep"); see deadlock.cc. The bookkeeping lives in ThreadCtx (thread_ctx.h).
#pragma once

#include <node_api.h>

namespace weft {

class ThreadCtx;

// opDepends(id, doneHandle | null): what besides its objects can end a pending op.
void register_unreach_functions(napi_env env, napi_value exports, ThreadCtx* tc);

}  // namespace weft
