// thread_ctx.h — per-thread state of the addon (one per Node-API environment: the main
// thread and each worker), and the completion path of asynchronous (Promise) operations.
//
// One result encoding for every call: the outcome goes into the status area (Code, SelectIndex,
// Refs) and the value is returned (a number/bigint/boolean, or a structured value's byte
// length with its bytes in the scratch area and its weft objects waiting for takeRefs()). An
// async op that cannot finish at once returns with Code = Pending and its op id in the status
// area; pending() in lib/internal/native.ts makes the Promise. When the op completes, settle()
// writes the status area exactly as a sync call would and calls the JS settle function (given
// to init) with (op id, value[, error]), which reads the status area before anything else runs.
#pragma once

#include <node_api.h>
#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/abi.h"
#include "core/message.h"
#include "core/chan/select.h"
#include "core/park/async_op.h"
#include "core/park/inbox.h"
#include "core/park/parker.h"
#include "core/park/waitq.h"

namespace weft {

// Result codes: the values of abi::Code (native/core/abi.h) under the names native code uses.
enum Code : int32_t {
  kCodeOk = abi::ix(abi::Code::Ok),
  kCodeWouldBlock = abi::ix(abi::Code::WouldBlock),
  kCodeClosed = abi::ix(abi::Code::Closed),
  kCodeTimeout = abi::ix(abi::Code::Timeout),
  kCodeStopped = abi::ix(abi::Code::Stopped),
  kCodePending = abi::ix(abi::Code::Pending),
  kCodeCanceled = abi::ix(abi::Code::Canceled),
  kCodeDeadlock = abi::ix(abi::Code::Deadlock),
  kCodeMisuse = abi::ix(abi::Code::Misuse),
  kCodeRetry = abi::ix(abi::Code::Retry),
};

// AsyncOp (one pending Promise operation) and its state machine: core/park/async_op.h.

class ThreadCtx {
 public:
  // The context of a new environment, or nullptr if it could not be set up (out of memory, or
  // the environment is already terminating). Nothing here throws into JavaScript: this runs in
  // the addon's init, where an environment that is going away must be left alone.
  static ThreadCtx* create(napi_env env) noexcept;
  ~ThreadCtx();

  static ThreadCtx* get(napi_env env);

  napi_env env;
  uint64_t rng;
  // Per-thread scratch area shared with JavaScript: structured payloads are encoded into it
  // before a send and decoded from it after a receive (no allocation on the hot path).
  uint8_t* scratch = nullptr;
  size_t scratch_len = 0;
  napi_ref scratch_ref = nullptr;
  // Int32 slots abi::StatusSlot (native/core/abi.h): Code = result code of the last call, Refs =
  // number of weft objects in the last received message (see takeRefs()), SelectIndex = case
  // index of the last select; Unused held 32-bit op ids once. The 64-bit id of the last pending async op is the
  // double at byte offset kOpIdOffset (exact: ids stay below 2^53), see set_op_id().
  static constexpr size_t kStatusBytes = abi::kStatusBytes;
  static constexpr size_t kOpIdOffset = abi::kStatusOpIdByteOffset;
  // The second result of a call that has one (valueLoad's version, onceResult's outcome), as
  // the double at byte offset abi::kStatusAuxByteOffset.
  void set_aux(double d) {
    std::memcpy(reinterpret_cast<uint8_t*>(status) + abi::kStatusAuxByteOffset, &d, sizeof d);
  }
  int32_t* status = nullptr;
  napi_ref status_ref = nullptr;
  std::vector<Shared*> last_refs;  // owned references waiting for takeRefs()
  napi_ref probe = nullptr;        // a no-op JS function: calling it fails once terminating
  napi_ref settle_fn = nullptr;    // JS settle(opId, value, error?) (lib/internal/native.ts)
  bool stopping = false;
  uint64_t spin_ns = kSpinMaxNs / 2;  // adaptive spin budget of this thread (see park())
  // How long an async send/recv that cannot complete at once polls its channel before it
  // registers (bind_chan.cc spin_then_try); 0: it registers at once. Adapted on this thread
  // only: raised when a registered channel op completes within kChanSpinMaxNs (the peer
  // answers that fast: polling beats a Promise, an event-loop round trip and a wake-up
  // through the kernel), halved when a poll runs out.
  uint64_t chan_spin_ns = 0;
  static constexpr uint64_t kChanSpinMaxNs = 10'000;
  static constexpr uint64_t kChanSpinMinNs = 1'000;
  // A registered channel op of this thread completed `waited` ns after it registered.
  void note_chan_wait(uint64_t waited) {
    if (waited <= kChanSpinMaxNs)
      chan_spin_ns = std::min(kChanSpinMaxNs, std::max(kChanSpinMinNs, 2 * waited));
  }
  uint64_t thread_id = 0;         // process-unique id of this thread (dump, deadlocks)
  std::string last_error;         // description for the last kCodeDeadlock
  // The process's main thread (init's third argument): where a *Sync wait that no other
  // thread can end is reported as asleep (sync_probe). Elsewhere it blocks, as a goroutine
  // blocked forever does in Go while others run (a supervised run stuck on purpose, say).
  bool is_main = false;
  std::vector<SyncPrim*> running_onces;  // Once objects whose fn this thread is running
  std::vector<uint64_t> batch;  // recvMany staging area

  // Replaces the scratch area (false, nothing changed, if ab is not an ArrayBuffer).
  bool set_scratch(napi_value ab);
  // Grows the scratch area to at least n bytes; false (with a RangeError pending) if it
  // cannot be allocated — the old area stays in place then.
  bool ensure_scratch(size_t n);
  napi_value ref_value(napi_ref r) const;

  // Async operations. The caller has set status.Code = Pending.
  // Registers a channel op, or completes it at once: then the status area holds its outcome
  // (as after a sync call) and the received value, if any, is returned; else (still pending)
  // the op id is in the status area and undefined is returned.
  napi_value start_async(AsyncOp* op);
  // Makes op completable (inbox, record owner) — call before queueing it anywhere.
  void prepare_async(AsyncOp* op);
  // A sync-primitive wait already queued on op->prim (op->srec), after prepare_async():
  // returns kCodePending (its op id is in the status area).
  napi_value start_sync_async(AsyncOp* op, const char* what);
  // withdraw: if a peer already completed a receive, give its value back (see AsyncOp).
  bool cancel(uint64_t id, int32_t code, bool withdraw = false);
  // Lets a pending op wait without keeping the event loop alive (context signals watching a
  // done channel that may never close).
  void weaken(uint64_t id);
  static bool stop_probe(void* arg);
  // A *Sync channel wait (block_one, a Block select): parked with sync_probe, which runs
  // stop_probe and, on the main thread when the wait has no deadline, asks sync_asleep
  // (deadlock.cc) whether any other thread could ever end it. If none could, `asleep` is set
  // and the park ends as stopped; the caller reports kCodeDeadlock (Go's "all goroutines are
  // asleep": the process would otherwise hang; API.md §9).
  struct SyncWait {
    ThreadCtx* tc;
    const Waiter* waiter;  // the parked wait (its claim state)
    const CaseRec* recs;
    int32_t n;
    bool infinite;
    const char* op;
    bool asleep = false;
  };
  static bool sync_probe(void* arg);
  // Whether none of the channels of recs[0..n) is held by any thread but this one (then
  // last_error describes the wait, `op` being "recv", "send" or "select").
  bool sync_asleep(const CaseRec* recs, int32_t n, const char* op);
  // The same for a sync primitive's *Sync wait (BlockThread::asleep, core/sync/block.h; set
  // on the main thread only).
  static bool prim_asleep(void* arg, Shared* prim, Channel* done, const char* what, std::string* why);
  // Test hook: the next async op of this thread gets id n (clamped to 1..2^53-1).
  void set_next_op_id(uint64_t n);

  // ---- unreachable operations (Go's "all goroutines are asleep"; deadlock.cc) -----------
  // When this thread's event loop has nothing left but strong pending ops, those that no
  // other thread can complete reject with kCodeDeadlock; the others are watched.
  bool unreach_init() noexcept;  // false: could not start the check (init fails quietly)
  void unreach_cleanup();
  // JS: op `id` also ends when `done` closes (a context's signal), or, with done == null, by
  // an AbortSignal nobody can reason about (never reported as asleep).
  void op_depends(uint64_t id, Shared* done);

 private:
  static void on_prepare(uv_prepare_t* h);
  static void unreach_wake(void* key);
  void check_unreachable();
  std::vector<Shared*> pending_objects() const;  // each pending op's objects, once per retain
  void reject_asleep(const std::vector<AsyncOp*>& ops, const std::vector<std::string>& desc);
  uv_prepare_t* prepare_ = nullptr;
  bool watching_ = false;  // in the registry's watcher list

 private:
  explicit ThreadCtx(napi_env env);
  bool init() noexcept;
  void set_op_id(uint64_t id);
  uint64_t take_op_id();
  static void on_async(uv_async_t* h);
  static void cleanup(napi_async_cleanup_hook_handle hook, void* arg);
  void process(AsyncOp* op);  // async_process(), then settle unless queued again
  void abandon(AsyncOp* op);  // torn down: give back what a peer handed op, settle nothing
  // Writes the outcome (code, case, received value) into the status area / scratch exactly as
  // a sync call does, frees op, and hands the value to JS settle (see the top of this file).
  void settle(AsyncOp* op, int32_t code, const SelectOut& out);
  // The outcome of a finished channel op as a sync call reports it: status Code/SelectIndex,
  // and the received value (nullptr for none; nullptr with an exception pending when it could
  // not be allocated — the value is lost then).
  napi_value put_result(AsyncOp* op, int32_t code, const SelectOut& out, bool* failed);
  void call_settle(uint64_t id, napi_value v, napi_value err);
  void add_pending(AsyncOp* op);     // id + pending_ slot; may throw std::bad_alloc only
  void forget_pending(AsyncOp* op);  // undoes add_pending

  // The uv handle that wakes this thread for completions, with the async cleanup hook that
  // keeps the environment (and so the addon's code, which uv_close's callback is) until the
  // handle is closed. Heap-allocated: it outlives the ThreadCtx (closing is asynchronous).
  struct AsyncHandle {
    uv_async_t h;
    napi_async_cleanup_hook_handle hook = nullptr;
  };
  AsyncHandle* async_ = nullptr;
  uv_async_t* uv() { return &async_->h; }
  std::shared_ptr<Inbox> inbox_;
  std::unordered_map<uint64_t, AsyncOp*> pending_;
  size_t strong_ = 0;  // pending ops that keep the loop alive (uv handle ref'd while > 0)
  uint64_t next_op_ = 1;
  napi_async_context async_ctx_ = nullptr;
  napi_ref resource_ = nullptr;
};

// A received value for JavaScript (recv_value.cc): numbers inline; a structured message is
// copied into the scratch area and its length returned (see put_message). Takes ownership.
napi_value value_to_js(ThreadCtx* tc, Elem elem, uint64_t bits);
// The one shape of a structured value leaving native code: its bytes copied into the scratch
// area, its weft objects (each retained for the caller) waiting in last_refs for takeRefs()
// (status.Refs = their number); returns the byte length. nullptr with a RangeError pending if
// the scratch area cannot grow. m is only read.
napi_value put_message(ThreadCtx* tc, const Message* m);

}  // namespace weft
