// thread_ctx.cc — see thread_ctx.h.
#include "thread_ctx.h"

#include <sched.h>

#include <chrono>

#include "channel.h"
#include "handle.h"
#include "sema.h"

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
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  async_ = new uv_async_t;
  uv_async_init(loop, async_, &ThreadCtx::on_async);
  async_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  inbox_ = std::make_shared<Inbox>(
      [](void* a) { uv_async_send(static_cast<uv_async_t*>(a)); }, async_);

  Napi::Env nenv(env);
  Napi::ArrayBuffer st = Napi::ArrayBuffer::New(nenv, 16);
  status = static_cast<int32_t*>(st.Data());
  status_ref = Napi::Persistent(st);
  set_scratch(Napi::ArrayBuffer::New(nenv, 64 * 1024));

  Napi::Object resource = Napi::Object::New(nenv);
  resource_ = Napi::Persistent(resource);
  napi_async_init(env, resource, Napi::String::New(nenv, "weft"), &async_ctx_);
  napi_add_env_cleanup_hook(env, &ThreadCtx::cleanup, this);
  unreach_init();
}

ThreadCtx::~ThreadCtx() = default;

ThreadCtx* ThreadCtx::get(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<ThreadCtx*>(data);
}

void ThreadCtx::set_scratch(Napi::ArrayBuffer ab) {
  scratch = static_cast<uint8_t*>(ab.Data());
  scratch_len = ab.ByteLength();
  scratch_ref = Napi::Persistent(ab);
}

void ThreadCtx::ensure_scratch(size_t n) {
  if (n <= scratch_len) return;
  size_t size = scratch_len;
  while (size < n) size *= 2;
  set_scratch(Napi::ArrayBuffer::New(Napi::Env(env), size));
}

bool ThreadCtx::stop_probe(void* arg) {
  // Worker.terminate() cannot interrupt a futex wait, but it makes V8 refuse to run any more
  // JavaScript on this thread: calling a trivial JS function is how a blocked *Sync call
  // learns that its thread is being torn down.
  auto* tc = static_cast<ThreadCtx*>(arg);
  if (tc->stopping) return true;
  napi_value fn = tc->probe.Value();
  napi_value global, result;
  napi_get_global(tc->env, &global);
  napi_status s = napi_call_function(tc->env, global, fn, 0, nullptr, &result);
  if (s != napi_ok) {
    tc->stopping = true;
    return true;
  }
  return false;
}

void ThreadCtx::add_pending(AsyncOp* op) {
  if (strong_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(async_));
  pending_.emplace(op->op_id, op);
}

void ThreadCtx::weaken(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second->weak) return;
  it->second->weak = true;
  // Internal watchers (a context's signal) are not user operations: keep them out of dump().
  if (it->second->registered) Shared::block_end(&it->second->blocked);
  it->second->registered = false;
  if (--strong_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(async_));
}

void ThreadCtx::free_op(AsyncOp* op) {
  if (op->also != nullptr) op->also->release();
  if (op->prim != nullptr) {
    op->prim->release();
    delete op;
    return;
  }
  for (CaseRec& c : op->recs) {
    if (c.ch == nullptr) continue;
    if (c.is_send) drop_value(c.ch->elem(), c.val);  // an unsent payload (0 once moved)
    c.ch->release();
  }
  delete op;
}

namespace {

napi_value make_result(ThreadCtx* tc, AsyncOp* op, int32_t code, const SelectOut& out) {
  napi_env env = tc->env;
  napi_value arr, v;
  napi_create_array_with_length(env, 3, &arr);
  napi_create_int32(env, code, &v);
  napi_set_element(env, arr, 0, v);
  napi_create_int32(env, out.index, &v);
  napi_set_element(env, arr, 1, v);
  if (code == kCodeOk && out.index >= 0 && !op->recs[out.index].is_send) {
    v = value_to_js(tc, op->recs[out.index].ch->elem(), out.val, true);
    napi_set_element(env, arr, 2, v);
  }
  return arr;
}

}  // namespace

void ThreadCtx::prepare_async(AsyncOp* op) {
  op->async = true;
  op->inbox = inbox_;
  op->srec.w = op;
  op->srec.thread = thread_id;
}

Napi::Value ThreadCtx::start_sync_async(AsyncOp* op, const char* what) {
  prepare_async(op);
  op->prim->retain();
  op->op_id = next_op_++;
  op->blocked = Shared::Blocked{thread_id, what, op->prim, now_ns()};
  Shared::block_begin(&op->blocked);
  op->registered = true;
  napi_value promise;
  napi_create_promise(env, &op->deferred, &promise);
  status[1] = int32_t(op->op_id);
  add_pending(op);
  return Napi::Value(env, promise);
}

Napi::Value ThreadCtx::start_async(AsyncOp* op) {
  napi_env e = env;
  op->async = true;
  op->inbox = inbox_;
  op->cases = op->recs.data();
  op->ncases = int32_t(op->recs.size());
  for (CaseRec& c : op->recs)
    if (c.ch != nullptr) c.ch->retain();  // the op keeps its channels alive while pending
  op->op_id = next_op_++;
  napi_value promise;
  napi_create_promise(e, &op->deferred, &promise);
  SelectOut out;
  if (!select_register(op, op->cases, op->ncases, &rng, &out)) {
    int32_t code = out.res == Channel::Res::kOk ? kCodeOk : kCodeClosed;
    napi_resolve_deferred(e, op->deferred, make_result(this, op, code, out));
    free_op(op);
    status[1] = 0;
    return Napi::Value(e, promise);
  }
  status[1] = int32_t(op->op_id);
  for (CaseRec& c : op->recs) {
    if (c.ch == nullptr) continue;
    const char* what = op->recs.size() > 1 ? "select" : c.is_send ? "send" : "recv";
    op->blocked = Shared::Blocked{thread_id, what, c.ch, now_ns()};
    Shared::block_begin(&op->blocked);
    op->registered = true;
    break;
  }
  add_pending(op);
  return Napi::Value(e, promise);
}

void ThreadCtx::settle(AsyncOp* op, napi_value v) {
  if (op->registered) Shared::block_end(&op->blocked);
  op->registered = false;
  pending_.erase(op->op_id);
  if (!op->weak && --strong_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  napi_resolve_deferred(env, op->deferred, v);
  free_op(op);
}

bool ThreadCtx::cancel(uint64_t id, int32_t code) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  AsyncOp* op = it->second;
  if (op->try_cancel()) {
    if (op->prim != nullptr) op->prim->unlink(&op->srec);
    else select_unlink(op);
    SelectOut none;
    settle(op, make_result(this, op, code, none));
    return true;
  }
  // A peer claimed it first; the completion (already in, or on its way to, the inbox) decides.
  op->cancel_code = code;
  return false;
}

void ThreadCtx::process(AsyncOp* op) {
  SelectOut out;
  if (op->prim != nullptr) {
    Grant g = op->srec.grant;
    if (g == Grant::kRetry) {
      if (op->cancel_code != 0) {
        op->prim->abandon(&op->srec);  // pass the wake-up on
        settle(op, make_result(this, op, op->cancel_code, out));
        return;
      }
      if (op->retry == nullptr) {
        settle(op, make_result(this, op, kCodeRetry, out));
        return;
      }
      op->reset();
      op->srec.grant = Grant::kNone;
      if (!op->retry(op)) return;  // queued again
    }
    settle(op, make_result(this, op, kCodeOk, out));
    return;
  }
  if (op->cancel_code != 0) {
    int32_t k = op->state.load(std::memory_order_acquire);
    if (op->recs[k].outcome == Outcome::kNotify) {
      // Gave up before acting on the notification: pass it on, report the cancel.
      select_unlink(op);
      select_abandon_claim(op);
      settle(op, make_result(this, op, op->cancel_code, out));
      return;
    }
  }
  bool done = select_finish(op, &rng, &out);
  if (!done && op->cancel_code != 0) {
    settle(op, make_result(this, op, op->cancel_code, SelectOut()));
    return;
  }
  if (!done && select_register(op, op->cases, op->ncases, &rng, &out)) return;  // wait again
  int32_t code = out.res == Channel::Res::kOk ? kCodeOk : kCodeClosed;
  settle(op, make_result(this, op, code, out));
}

void ThreadCtx::on_async(uv_async_t* h) {
  auto* tc = static_cast<ThreadCtx*>(h->data);
  std::vector<Waiter*> items = tc->inbox_->drain();
  if (items.empty()) return;
  napi_handle_scope scope;
  napi_open_handle_scope(tc->env, &scope);
  napi_callback_scope cb_scope;
  // A callback scope makes Node run the promise reactions (microtasks) when it closes.
  napi_open_callback_scope(tc->env, tc->resource_.Value(), tc->async_ctx_, &cb_scope);
  for (Waiter* w : items) tc->process(static_cast<AsyncOp*>(w));
  napi_close_callback_scope(tc->env, cb_scope);
  napi_close_handle_scope(tc->env, scope);
}

void ThreadCtx::cleanup(void* arg) {
  auto* tc = static_cast<ThreadCtx*>(arg);
  tc->stopping = true;
  tc->unreach_cleanup();
  // Cancel every pending op. Those a peer already claimed are completing: wait for them to
  // reach the inbox, then make sure nothing they carried is lost (values go back, notifications
  // are passed on), since this thread will never act on them.
  std::vector<AsyncOp*> claimed;
  for (SyncPrim* o : tc->running_onces) {
    static_cast<Once*>(o)->runner_exited(tc->thread_id);
    o->release();
  }
  tc->running_onces.clear();
  for (auto& [id, op] : tc->pending_) {
    if (op->registered) Shared::block_end(&op->blocked);
    op->registered = false;
    if (op->try_cancel()) {
      if (op->prim != nullptr) op->prim->unlink(&op->srec);
      else select_unlink(op);
      tc->free_op(op);
    } else {
      claimed.push_back(op);
    }
  }
  tc->pending_.clear();
  size_t arrived = 0;
  std::vector<Waiter*> seen;
  while (arrived < claimed.size()) {
    for (Waiter* w : tc->inbox_->drain()) {
      auto* op = static_cast<AsyncOp*>(w);
      if (op->prim != nullptr) {
        op->prim->abandon(&op->srec);
      } else {
        select_unlink(op);
        select_abandon_claim(op);
      }
      tc->free_op(op);
      arrived++;
    }
    if (arrived < claimed.size()) sched_yield();
  }
  tc->inbox_->close();
  for (Shared* s : tc->last_refs) s->release();
  tc->last_refs.clear();
  if (tc->async_ctx_ != nullptr) napi_async_destroy(tc->env, tc->async_ctx_);
  uv_close(reinterpret_cast<uv_handle_t*>(tc->async_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
  delete tc;
}

// ---- value conversion --------------------------------------------------------------------

napi_value value_to_js(ThreadCtx* tc, Elem elem, uint64_t bits, bool for_async) {
  napi_env env = tc->env;
  napi_value v;
  switch (elem) {
    case Elem::kF64:
      napi_create_double(env, bits_f64(bits), &v);
      return v;
    case Elem::kI32:
      napi_create_int32(env, int32_t(uint32_t(bits)), &v);
      return v;
    case Elem::kI64:
      napi_create_bigint_int64(env, int64_t(bits), &v);
      return v;
    case Elem::kBool:
      napi_get_boolean(env, bits != 0, &v);
      return v;
    case Elem::kStructured:
      break;
  }
  Message* m = to_message(bits);
  size_t n = m->bytes.size();
  if (!for_async) {
    tc->ensure_scratch(n);
    if (n) std::memcpy(tc->scratch, m->bytes.data(), n);
    for (Shared* s : tc->last_refs) s->release();  // refs nobody took (should not happen)
    tc->last_refs.swap(m->refs);
    m->refs.clear();
    tc->status[2] = int32_t(tc->last_refs.size());
    delete m;
    napi_create_double(env, double(n), &v);
    return v;
  }
  napi_value ab, u8, pair, refs;
  void* data = nullptr;
  napi_create_arraybuffer(env, n, &data, &ab);
  if (n) std::memcpy(data, m->bytes.data(), n);
  napi_create_typedarray(env, napi_uint8_array, n, ab, 0, &u8);
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, u8);
  if (!m->refs.empty()) {
    napi_create_array_with_length(env, m->refs.size(), &refs);
    for (size_t i = 0; i < m->refs.size(); i++) {
      napi_set_element(env, refs, uint32_t(i), make_handle(env, m->refs[i]));
    }
    m->refs.clear();  // adopted by the handles
    napi_set_element(env, pair, 1, refs);
  }
  delete m;
  return pair;
}

}  // namespace weft
