// thread_ctx.cc — see thread_ctx.h.
#include "node/thread_ctx.h"

#include <chrono>
#include <cstring>
#include <new>

#include "core/chan/channel.h"
#include "core/park/parker.h"
#include "core/sync/cond.h"
#include "core/sync/once.h"
#include "core/sync/semaphore.h"
#include "core/sync/wait_group.h"
#include "node/bind_chan.h"

namespace weft {

// ---- ThreadCtx ---------------------------------------------------------------------------

namespace {
std::atomic<uint64_t> next_thread_id{1};
}  // namespace

ThreadCtx::ThreadCtx(napi_env e) : env(e) {
  thread_id = next_thread_id.fetch_add(1, std::memory_order_relaxed);
  rng = uint64_t(reinterpret_cast<uintptr_t>(this)) ^
        uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        0x9E3779B97F4A7C15ull;
  if (rng == 0) rng = 1;
}

ThreadCtx* ThreadCtx::create(napi_env env) noexcept {
  ThreadCtx* tc = new (std::nothrow) ThreadCtx(env);
  if (tc == nullptr) return nullptr;
  if (!tc->init()) {
    delete tc;
    return nullptr;
  }
  return tc;
}

// Every step is a checked Node-API call: a worker terminated while it loads the addon makes
// them fail (the environment refuses new JS values), and that must end in a quiet nullptr,
// never in a throw (node-addon-api's throw-on-failure aborts the process when the throw
// itself fails, which it does in a terminating environment).
bool ThreadCtx::init() noexcept {
  napi_value st, sc, resource, name;
  void* st_data = nullptr;
  if (napi_create_arraybuffer(env, kStatusBytes, &st_data, &st) != napi_ok) return false;
  std::memset(st_data, 0, kStatusBytes);
  if (napi_create_reference(env, st, 1, &status_ref) != napi_ok) return false;
  status = static_cast<int32_t*>(st_data);
  if (napi_create_arraybuffer(env, 64 * 1024, nullptr, &sc) != napi_ok || !set_scratch(sc))
    return false;
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_reference(env, resource, 1, &resource_) != napi_ok ||
      napi_create_string_utf8(env, "weft", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, resource, name, &async_ctx_) != napi_ok) {
    async_ctx_ = nullptr;
    return false;
  }
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return false;
  async_ = new (std::nothrow) AsyncHandle();
  if (async_ == nullptr) return false;
  if (uv_async_init(loop, uv(), &ThreadCtx::on_async) != 0) {
    delete async_;  // never initialised: nothing to close
    async_ = nullptr;
    return false;
  }
  uv()->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(uv()));
  // Teardown goes through an *async* cleanup hook (Node-API 8): the handle must be closed
  // with uv_close, whose callback runs on a later loop iteration and is code of this addon.
  // With a plain cleanup hook Node does not wait for that callback: a worker's environment
  // ends, and if it was the last one using the addon Node unloads the library, before the
  // callback runs (segfault at worker exit when the main thread never imported weft). An async
  // hook keeps the environment, and so the addon, until napi_remove_async_cleanup_hook, which
  // the close callback calls last. (addon.cc also pins the library for the process; see
  // there for why both.)
  auto drop_handle = [this] {
    uv_close(reinterpret_cast<uv_handle_t*>(uv()),
             [](uv_handle_t* h) { delete reinterpret_cast<AsyncHandle*>(h); });
    async_ = nullptr;
  };
  try {
    inbox_ = std::make_shared<Inbox>(
        [](void* a) { uv_async_send(static_cast<uv_async_t*>(a)); }, uv());
  } catch (...) {
    drop_handle();
    return false;
  }
  if (!unreach_init()) {
    drop_handle();
    return false;
  }
  if (napi_add_async_cleanup_hook(env, &ThreadCtx::cleanup, this, &async_->hook) != napi_ok) {
    unreach_cleanup();
    drop_handle();
    return false;
  }
  return true;
}

// Releases the references and the async context (from cleanup(), or after a failed init()).
ThreadCtx::~ThreadCtx() {
  if (async_ctx_ != nullptr) napi_async_destroy(env, async_ctx_);
  if (status_ref != nullptr) napi_delete_reference(env, status_ref);
  if (scratch_ref != nullptr) napi_delete_reference(env, scratch_ref);
  if (resource_ != nullptr) napi_delete_reference(env, resource_);
  if (probe != nullptr) napi_delete_reference(env, probe);
  if (settle_fn != nullptr) napi_delete_reference(env, settle_fn);
}

ThreadCtx* ThreadCtx::get(napi_env env) {
  void* data = nullptr;
  if (napi_get_instance_data(env, &data) != napi_ok) return nullptr;
  return static_cast<ThreadCtx*>(data);
}

napi_value ThreadCtx::ref_value(napi_ref r) const {
  napi_value v = nullptr;
  if (r == nullptr || napi_get_reference_value(env, r, &v) != napi_ok) return nullptr;
  return v;
}

bool ThreadCtx::set_scratch(napi_value ab) {
  void* data = nullptr;
  size_t len = 0;
  napi_ref ref = nullptr;
  if (napi_get_arraybuffer_info(env, ab, &data, &len) != napi_ok ||
      napi_create_reference(env, ab, 1, &ref) != napi_ok)
    return false;
  if (scratch_ref != nullptr) napi_delete_reference(env, scratch_ref);
  scratch_ref = ref;
  scratch = static_cast<uint8_t*>(data);
  scratch_len = len;
  return true;
}

bool ThreadCtx::ensure_scratch(size_t n) {
  if (n <= scratch_len) return true;
  size_t size = scratch_len > 0 ? scratch_len : 64 * 1024;
  while (size < n && size <= SIZE_MAX / 2) size *= 2;  // doubling; no wrap-around to 0
  if (size < n) size = n;
  napi_value ab;
  if (napi_create_arraybuffer(env, size, nullptr, &ab) != napi_ok || !set_scratch(ab)) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) {
      napi_throw_range_error(env, "ERR_MEMORY_ALLOCATION_FAILED",
                             "weft: cannot allocate the scratch area for a received value");
    }
    return false;
  }
  return true;
}

bool ThreadCtx::stop_probe(void* arg) {
  // Worker.terminate() cannot interrupt a futex wait, but it makes V8 refuse to run any more
  // JavaScript on this thread: calling a trivial JS function is how a blocked *Sync call
  // learns that its thread is being torn down.
  auto* tc = static_cast<ThreadCtx*>(arg);
  if (tc->stopping) return true;
  napi_value fn = tc->ref_value(tc->probe);
  if (fn == nullptr) return false;  // init() not called yet: nothing to probe with
  napi_value global, result;
  napi_get_global(tc->env, &global);
  napi_status s = napi_call_function(tc->env, global, fn, 0, nullptr, &result);
  if (s != napi_ok) {
    tc->stopping = true;
    return true;
  }
  return false;
}

namespace {
constexpr uint64_t kMaxOpId = (uint64_t(1) << 53) - 1;  // exact in the double slot
}  // namespace

void ThreadCtx::set_op_id(uint64_t id) {
  double d = double(id);  // exact: id <= kMaxOpId
  std::memcpy(reinterpret_cast<uint8_t*>(status) + kOpIdOffset, &d, sizeof d);
}

uint64_t ThreadCtx::take_op_id() {
  uint64_t id = next_op_;
  next_op_ = id >= kMaxOpId ? 1 : id + 1;
  return id;
}

void ThreadCtx::set_next_op_id(uint64_t n) {
  next_op_ = n == 0 ? 1 : n > kMaxOpId ? kMaxOpId : n;
}

// Gives op its id (published to JS through the status area) and makes it cancellable. Ids
// are 64-bit and unique among this thread's pending ops (one in use after a wrap-around at
// 2^53, or set by the test hook, is skipped).
void ThreadCtx::add_pending(AsyncOp* op) {
  op->op_id = take_op_id();
  // emplace allocates a node: the only step that may throw; nothing has changed if it does.
  while (!pending_.emplace(op->op_id, op).second) op->op_id = take_op_id();
  set_op_id(op->op_id);
  if (strong_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(uv()));
}

void ThreadCtx::weaken(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second->weak) return;
  it->second->weak = true;
  // Internal watchers (a context's signal) are not user operations: keep them out of dump().
  if (it->second->registered) block_end(&it->second->blocked);
  it->second->registered = false;
  if (--strong_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(uv()));
}

void ThreadCtx::prepare_async(AsyncOp* op) { async_prepare(op, inbox_, thread_id); }

napi_value ThreadCtx::start_sync_async(AsyncOp* op, const char* what) {
  // prepare_async() ran before the op was queued: it must not run again here, where a peer
  // may already be completing the op (its complete() reads op->inbox on another thread).
  op->prim->retain();
  // The op is already queued on its primitive (by the caller). Taking its pending_ slot may
  // throw (no memory): then withdraw it before the error goes up.
  try {
    add_pending(op);
  } catch (...) {
    if (async_withdraw(op)) async_free(op);
    // else a grant won the race and is on its way to the inbox: process() settles it (JS
    // awaits nothing) and frees it; a granted lock is then released by nobody (not
    // recoverable without memory, like the rest of this corner).
    throw;
  }
  op->awaited = true;  // JS makes its Promise for op_id when this call returns
  op->blocked = Blocked{thread_id, what, op->prim, now_ns()};
  block_begin(&op->blocked);  // never throws (out of memory: not in dump())
  op->registered = true;
  napi_value code;
  napi_create_int32(env, kCodePending, &code);
  return code;
}

napi_value ThreadCtx::start_async(AsyncOp* op) {
  async_bind_cases(op, inbox_);
  // What can fail comes first, before the op is visible to other threads: its pending_ slot
  // (allocation).
  try {
    add_pending(op);
  } catch (...) {
    async_free(op);  // drops an unsent payload and the channel references
    throw;
  }
  AsyncResult res;
  if (!async_register(op, &rng, &res)) {
    // Done at once: reported exactly like a sync call (nothing pending, no op id).
    forget_pending(op);
    set_op_id(0);
    bool failed = false;
    napi_value v = put_result(op, res.code, res.out, &failed);
    async_free(op);
    return v;  // failed: nullptr with the RangeError pending, thrown by the call
  }
  op->awaited = true;  // JS makes its Promise for op_id when this call returns
  for (CaseRec& c : op->recs) {
    if (c.ch == nullptr) continue;
    const char* what = op->recs.size() > 1 ? "select" : c.is_send ? "send" : "recv";
    op->blocked = Blocked{thread_id, what, c.ch, now_ns()};
    block_begin(&op->blocked);  // never throws (out of memory: not in dump())
    op->registered = true;
    break;
  }
  return nullptr;
}

void ThreadCtx::forget_pending(AsyncOp* op) {
  auto it = pending_.find(op->op_id);
  if (it == pending_.end() || it->second != op) return;  // never added (see start_sync_async)
  pending_.erase(it);
  if (!op->weak && --strong_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(uv()));
}

void ThreadCtx::abandon(AsyncOp* op) {
  if (op->registered) block_end(&op->blocked);
  op->registered = false;
  forget_pending(op);
  async_abandon(op);  // gives back what a peer handed it, then frees it
}

napi_value ThreadCtx::put_result(AsyncOp* op, int32_t code, const SelectOut& out,
                                 bool* failed) {
  status[abi::ix(abi::StatusSlot::Code)] = code;
  status[abi::ix(abi::StatusSlot::SelectIndex)] = out.index;
  *failed = false;
  if (code != kCodeOk || out.index < 0 || size_t(out.index) >= op->recs.size() ||
      op->recs[out.index].is_send)
    return nullptr;
  napi_value v = value_to_js(this, op->recs[out.index].ch->elem(), out.val);
  *failed = v == nullptr;
  return v;
}

void ThreadCtx::call_settle(uint64_t id, napi_value v, napi_value err) {
  napi_value fn = ref_value(settle_fn), undef, args[3], ignored;
  if (fn == nullptr) return;  // init() not called yet: nobody awaits anything
  napi_get_undefined(env, &undef);
  napi_create_double(env, double(id), &args[0]);  // exact: ids stay below 2^53
  args[1] = v != nullptr ? v : undef;
  args[2] = err;  // passed only when there is one (JS tells by the argument count)
  if (napi_call_function(env, undef, fn, err != nullptr ? 3 : 2, args, &ignored) == napi_ok)
    return;
  // The JS settle catches everything it runs (settle() in lib/internal/native.ts): a
  // failure here is the environment going away (leave it), or truly unexpected (report it;
  // never let it escape into libuv or into the JS call that canceled the op).
  napi_value e = nullptr;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) napi_get_and_clear_last_exception(env, &e);
  if (e != nullptr && !stop_probe(this)) napi_fatal_exception(env, e);
}

void ThreadCtx::settle(AsyncOp* op, int32_t code, const SelectOut& out) {
  // A lone send or receive that a peer completed: how soon (see chan_spin_ns).
  if (op->registered && !op->is_select && op->prim == nullptr && op->recs.size() == 1 &&
      code == abi::ix(abi::Code::Ok))
    note_chan_wait(now_ns() - op->blocked.since_ns);
  if (op->registered) block_end(&op->blocked);
  op->registered = false;
  forget_pending(op);
  uint64_t id = op->op_id;
  bool awaited = op->awaited;
  bool failed = false;
  napi_value v = nullptr, err = nullptr;
  // The value is written even when nobody awaits it (the op never got its Promise, see
  // start_sync_async): then it is simply dropped here and in JS.
  v = put_result(op, code, out, &failed);
  if (failed) {
    // The received value could not be allocated (too big): it is lost, and the Promise
    // rejects with that RangeError rather than never settling.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &err);
    napi_value msg;
    if (err == nullptr &&
        napi_create_string_utf8(env, "weft: cannot allocate a received value", NAPI_AUTO_LENGTH,
                                &msg) == napi_ok)
      napi_create_range_error(env, nullptr, msg, &err);
    if (err == nullptr) napi_get_undefined(env, &err);
  }
  async_free(op);
  if (awaited) call_settle(id, v, err);
}

bool ThreadCtx::cancel(uint64_t id, int32_t code, bool withdraw) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  AsyncOp* op = it->second;
  if (async_cancel(op, code, withdraw)) {
    settle(op, code, SelectOut());
    return true;
  }
  if (!withdraw || op->prim != nullptr) {
    // A peer claimed it first: process() reports the cancel when the completion arrives.
    return false;
  }
  // A withdrawn receive (an async iterator's return()) that a sender already handed a value:
  // the value goes back to the front of its channel now, not when the completion is drained,
  // or this thread's next receive on the channel could take the sender's *next* value first
  // (measured: a stream destroyed mid-flow, then `for await` over the channel, saw 0, 2, 1).
  // The claimer pushes the op to this inbox right after filling it (a few instructions of
  // native code): wait for it there, and process it as on_async would.
  for (int spins = 0; !inbox_->take(op); spins++) {
    if (spins < 64) cpu_relax();
    else thread_yield();
  }
  process(op);
  return true;
}

void ThreadCtx::process(AsyncOp* op) {
  AsyncResult r = async_process(op, &rng);
  if (r.pending) return;  // queued again (a retry, or a notification whose retry failed)
  settle(op, r.code, r.out);
}

void ThreadCtx::on_async(uv_async_t* h) {
  auto* tc = static_cast<ThreadCtx*>(h->data);
  std::vector<Waiter*> items;
  try {
    items = tc->inbox_->drain();
  } catch (...) {
    // drain() swaps vectors and does not allocate; nothing was taken if it threw anyway.
    return;
  }
  if (items.empty()) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(tc->env, &scope) != napi_ok) return;
  napi_callback_scope cb_scope = nullptr;
  // A callback scope makes Node run the promise reactions (microtasks) when it closes.
  napi_value resource = tc->ref_value(tc->resource_);
  if (resource == nullptr ||
      napi_open_callback_scope(tc->env, resource, tc->async_ctx_, &cb_scope) != napi_ok)
    cb_scope = nullptr;
  // Worker.terminate() may have begun: this thread will run no more JavaScript, so a value a
  // peer handed to one of these ops could never reach a receiver here (building its result
  // fails). Give everything back instead (DESIGN fact 6: a value is never lost because its
  // receiver died). Probed once per batch; the stop flag is sticky.
  if (stop_probe(tc)) {
    for (Waiter* w : items) tc->abandon(static_cast<AsyncOp*>(w));
    if (cb_scope != nullptr) napi_close_callback_scope(tc->env, cb_scope);
    napi_close_handle_scope(tc->env, scope);
    return;
  }
  for (Waiter* w : items) {
    // No C++ exception may leave a libuv callback (std::terminate). process() allocates only
    // in low-memory corners (dump() registration): such an op stays pending, unsettled.
    try {
      tc->process(static_cast<AsyncOp*>(w));
    } catch (...) {
    }
  }
  if (cb_scope != nullptr) napi_close_callback_scope(tc->env, cb_scope);
  napi_close_handle_scope(tc->env, scope);
}

void ThreadCtx::cleanup(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* tc = static_cast<ThreadCtx*>(arg);
  (void)hook;  // the same handle is in tc->async_->hook
  tc->stopping = true;
  // First: a ring send this thread's JavaScript was stopped in (Worker.terminate()) holds a
  // slot that pushes below (values given back) may have to wait for (send_record.cc).
  finish_stopped_send();
  tc->unreach_cleanup();
  // Cancel every pending op. Those a peer already claimed are completing: wait for them to
  // reach the inbox, then make sure nothing they carried is lost (values go back, notifications
  // are passed on), since this thread will never act on them.
  // Nothing here may throw (Node calls this hook; an exception would end the process), so
  // it does not allocate: claimed ops are only counted.
  size_t claimed = 0;
  for (SyncPrim* o : tc->running_onces) {
    static_cast<Once*>(o)->runner_exited(tc->thread_id);
    o->release();
  }
  tc->running_onces.clear();
  for (auto& [id, op] : tc->pending_) {
    if (op->registered) block_end(&op->blocked);
    op->registered = false;
    if (async_withdraw(op)) async_free(op);
    else claimed++;
  }
  tc->pending_.clear();
  async_drain_abandoned(tc->inbox_.get(), claimed);
  tc->inbox_->close();
  for (Shared* s : tc->last_refs) s->release();
  tc->last_refs.clear();
  void* data = nullptr;
  if (napi_get_instance_data(tc->env, &data) == napi_ok && data == tc)
    napi_set_instance_data(tc->env, nullptr, nullptr, nullptr);  // no dangling get()
  // The close callback is the last addon code this environment runs: it frees the handle,
  // then tells Node it may finish tearing the environment down.
  uv_close(reinterpret_cast<uv_handle_t*>(tc->uv()), [](uv_handle_t* h) {
    auto* a = reinterpret_cast<AsyncHandle*>(h);  // h is a's first member
    napi_async_cleanup_hook_handle hk = a->hook;
    delete a;
    napi_remove_async_cleanup_hook(hk);
  });
  tc->async_ = nullptr;
  delete tc;
}

}  // namespace weft
