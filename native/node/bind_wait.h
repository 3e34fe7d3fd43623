// bind_wait.h — helpers shared by the sync-primitive bindings (bind_mutex.cc, bind_sync.cc):
// the calling thread as core/sync/block.h sees it, argument conversion, and the start of an
// async (Promise) wait on a primitive. The waiting itself is Node-free: block_on
// (core/sync/block.h) for *Sync calls, the AsyncOp state machine (core/park/async_op.h) for
// Promises.
#pragma once

#include <node_api.h>

#include <string>

#include "core/chan/channel.h"
#include "core/park/async_op.h"
#include "core/sync/block.h"
#include "node/handle.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

// "mutex 'db'" or "mutex": how messages name an object.
inline std::string describe(Shared* o) {
  return std::string(kind_name(o->kind())) + (o->name().empty() ? "" : " '" + o->name() + "'");
}

template <class T>
napi_value named(napi_env env, T* o, napi_value name) {
  o->set_name(str(env, name));
  return make_handle(env, o);
}

// This thread for block_on: its id, spin budget, teardown probe (Worker.terminate()) and
// where a lock cycle's description goes (lastError()).
inline BlockThread block_thread(ThreadCtx* tc) {
  BlockThread t;
  t.id = tc->thread_id;
  t.spin_ns = &tc->spin_ns;
  t.stop = &ThreadCtx::stop_probe;
  t.stop_arg = tc;
  t.last_error = &tc->last_error;
  if (tc->is_main) t.asleep = &ThreadCtx::prim_asleep;
  t.asleep_arg = tc;
  return t;
}

// A context's done channel argument (a handle), or nullptr.
inline Channel* done_arg(napi_env env, napi_value v) {
  return peek<Channel>(env, v, Kind::Channel);
}

// Starts an async wait on prim: take(rec) takes it at once (the call returns kCodeOk) or
// queues rec (the call returns a Promise; status.Code = pending, its op id in the status area).
template <class Take>
napi_value wait_async(napi_env env, ThreadCtx* tc, SyncPrim* prim, int64_t n, const char* what,
                      bool (*retry)(AsyncOp*), Take take) {
  auto* op = new AsyncOp();
  op->prim = prim;
  op->srec.n = n;
  op->retry = retry;
  tc->prepare_async(op);  // before queueing: a peer may complete it at once
  if (take(&op->srec)) {
    delete op;
    tc->status[abi::ix(abi::StatusSlot::Code)] = kCodeOk;
    return num(env, kCodeOk);
  }
  tc->status[abi::ix(abi::StatusSlot::Code)] = kCodePending;
  return tc->start_sync_async(op, what);
}

}  // namespace weft
