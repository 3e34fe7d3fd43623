// thread_ctx.h — per-thread state of the addon (one per Node-API environment: the main
// thread and each worker), and the completion path of asynchronous (Promise) operations.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "inbox.h"
#include "parker.h"
#include "select.h"
#include "waitq.h"

namespace weft {

enum Code : int32_t {
  kCodeOk = 0,
  kCodeWouldBlock = 1,
  kCodeClosed = 2,
  kCodeTimeout = 3,
  kCodeStopped = 4,
  kCodePending = 5,
  kCodeCanceled = 6,
  kCodeDeadlock = 7,
  kCodeMisuse = 8,
  kCodeRetry = 9,
};

class ThreadCtx;

// One pending Promise operation: a waiter with its cases, the channels it keeps alive, and
// the deferred to settle on the owner thread.
struct AsyncOp : Waiter {
  uint64_t op_id = 0;
  napi_deferred deferred = nullptr;
  std::vector<CaseRec> recs;
  bool is_select = false;
  int32_t cancel_code = 0;  // set by cancel() when a claim won the race
  bool weak = false;        // does not keep the event loop alive (see ThreadCtx::weaken)
  // Sync-primitive waits (mutex, semaphore, ...): the primitive (retained) and the record.
  SyncPrim* prim = nullptr;
  SyncRec srec;
  // Called on the owner thread when the record was claimed with Grant::kRetry: take the
  // resource (true) or queue again (false).
  bool (*retry)(AsyncOp* op) = nullptr;
  Shared::Blocked blocked{};
  bool registered = false;  // `blocked` is in the dump() list
  // Unreachable-op detection (deadlock.cc): what else can end the op besides its objects.
  Shared* also = nullptr;   // a context's done channel whose signal aborts it (retained)
  bool external = false;    // an ordinary AbortSignal: anyone may abort it, never "asleep"
};

class ThreadCtx {
 public:
  explicit ThreadCtx(napi_env env);
  ~ThreadCtx();

  static ThreadCtx* get(napi_env env);

  napi_env env;
  uint64_t rng;
  // Per-thread scratch area shared with JavaScript: structured payloads are encoded into it
  // before a send and decoded from it after a receive (no allocation on the hot path).
  uint8_t* scratch = nullptr;
  size_t scratch_len = 0;
  Napi::Reference<Napi::ArrayBuffer> scratch_ref;
  // status[0] = result code of the last call, status[1] = id of the last async op,
  // status[2] = number of weft objects in the last received message (see takeRefs()).
  int32_t* status = nullptr;
  Napi::Reference<Napi::ArrayBuffer> status_ref;
  std::vector<Shared*> last_refs;  // owned references waiting for takeRefs()
  Napi::FunctionReference probe;   // a no-op JS function: calling it fails once terminating
  bool stopping = false;
  uint64_t spin_ns = kSpinMaxNs / 2;  // adaptive spin budget of this thread (see park())
  uint64_t thread_id = 0;         // process-unique id of this thread (dump, deadlocks)
  std::string last_error;         // description for the last kCodeDeadlock
  std::vector<SyncPrim*> running_onces;  // Once objects whose fn this thread is running
  std::vector<uint64_t> batch;  // recvMany staging area

  void set_scratch(Napi::ArrayBuffer ab);
  void ensure_scratch(size_t n);

  // Async operations.
  Napi::Value start_async(AsyncOp* op);  // registers (or completes at once); returns the Promise
  // Makes op completable (inbox, record owner) — call before queueing it anywhere.
  void prepare_async(AsyncOp* op);
  // A sync-primitive wait already queued on op->prim (op->srec): returns the Promise.
  Napi::Value start_sync_async(AsyncOp* op, const char* what);
  bool cancel(uint64_t id, int32_t code);
  // Lets a pending op wait without keeping the event loop alive (context signals watching a
  // done channel that may never close).
  void weaken(uint64_t id);
  static bool stop_probe(void* arg);

  // ---- unreachable operations (Go's "all goroutines are asleep"; deadlock.cc) -----------
  // When this thread's event loop has nothing left but strong pending ops, those that no
  // other thread can complete reject with kCodeDeadlock; the others are watched.
  void unreach_init();
  void unreach_cleanup();
  // JS: op `id` also ends when `done` closes (a context's signal), or, with done == null, by
  // an AbortSignal nobody can reason about (never reported as asleep).
  void op_depends(uint64_t id, Shared* done);

 private:
  static void on_prepare(uv_prepare_t* h);
  static void unreach_wake(void* key);
  void check_unreachable();
  void reject_asleep(const std::vector<AsyncOp*>& ops, const std::vector<std::string>& desc);
  uv_prepare_t* prepare_ = nullptr;
  bool watching_ = false;  // in the registry's watcher list

 private:
  static void on_async(uv_async_t* h);
  static void cleanup(void* arg);
  void process(AsyncOp* op);
  void settle(AsyncOp* op, napi_value v);
  void free_op(AsyncOp* op);
  void add_pending(AsyncOp* op);

  uv_async_t* async_ = nullptr;
  std::shared_ptr<Inbox> inbox_;
  std::unordered_map<uint64_t, AsyncOp*> pending_;
  size_t strong_ = 0;  // pending ops that keep the loop alive (uv handle ref'd while > 0)
  uint64_t next_op_ = 1;
  napi_async_context async_ctx_ = nullptr;
  Napi::ObjectReference resource_;
};

// A received value for JavaScript: numbers inline; a structured message is copied into the
// scratch area (sync: returns its length; its weft objects wait in last_refs for takeRefs())
// or, for async results, returned as [Uint8Array, handles[] | undefined]. Takes ownership.
napi_value value_to_js(ThreadCtx* tc, Elem elem, uint64_t bits, bool for_async);

}  // namespace weft
