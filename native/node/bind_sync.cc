// bind_sync.cc — see bind_sync.h: WaitGroup, Semaphore, Cond and Once (Mutex and RWMutex:
// bind_mutex.cc). Conventions as in bind_chan.cc: codes from thread_ctx.h. *Sync waits go
// through block_on (core/sync/block.h), Promise waits through wait_async (bind_wait.h).
#include "node/bind_sync.h"
#include "node/bindings.h"
#include "node/marshal.h"

#include <mutex>
#include <string>
#include <unordered_set>

#include "core/sync/mutex.h"
#include "core/sync/cond.h"
#include "core/sync/once.h"
#include "core/sync/semaphore.h"
#include "core/sync/wait_group.h"
#include "node/bind_wait.h"

namespace weft {

namespace {

// Ids of the threads whose weft environment is still alive (dump() marks a lock holder that
// is gone). Leaked on purpose, like the registry: threads may exit while the process does.
struct LiveThreads {
  std::mutex mu;
  std::unordered_set<uint64_t> ids;  // guarded by mu
};
LiveThreads& live_threads() {
  static LiveThreads* l = new LiveThreads();
  return *l;
}

void thread_gone(void* arg) {
  LiveThreads& l = live_threads();
  std::lock_guard<std::mutex> g(l.mu);
  l.ids.erase(uint64_t(reinterpret_cast<uintptr_t>(arg)));
}

// ---- WaitGroup ---------------------------------------------------------------------------

napi_value js_wg_new(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  return named(env, new WaitGroup(), a.v[0]);
}

napi_value js_wg_words(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  WaitGroup* w = unwrap<WaitGroup>(env, a.v[0], Kind::WaitGroup);
  if (!w) return nullptr;
  return words_buffer(env, w, w->words(), abi::kWaitGroupWordsBytes);
}

napi_value js_wg_wake(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  WaitGroup* w = unwrap<WaitGroup>(env, a.v[0], Kind::WaitGroup);
  if (!w) return nullptr;
  w->wake_if_zero();
  return nullptr;
}

napi_value js_wg_wait_sync(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  WaitGroup* w = unwrap<WaitGroup>(env, a.v[0], Kind::WaitGroup);
  if (!w) return nullptr;
  SyncRec rec;
  return num(env, block_on(block_thread(a.tc), w, "wait", rec, deadline_after(dbl(env, a.v[1], -1)), nullptr,
                           done_arg(env, a.v[2]),
                           [w](SyncRec* r, bool) { return w->wait_or_queue(r); }));
}

napi_value js_wg_wait(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  WaitGroup* w = unwrap<WaitGroup>(env, a.v[0], Kind::WaitGroup);
  if (!w) return nullptr;
  return wait_async(env, a.tc, w, 1, "wait", nullptr,
                    [w](SyncRec* r) { return w->wait_or_queue(r); });
}

// ---- Semaphore ---------------------------------------------------------------------------

napi_value js_sem_new(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  return named(env, new Semaphore(int64_t(dbl(env, a.v[0]))), a.v[1]);
}

napi_value js_sem_try(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Semaphore* s = unwrap<Semaphore>(env, a.v[0], Kind::Semaphore);
  if (!s) return nullptr;
  return boolean(env, s->try_acquire(int64_t(dbl(env, a.v[1], 1))));
}

napi_value js_sem_acquire_sync(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  Semaphore* s = unwrap<Semaphore>(env, a.v[0], Kind::Semaphore);
  if (!s) return nullptr;
  SyncRec rec;
  rec.n = int64_t(dbl(env, a.v[1], 1));
  return num(env, block_on(block_thread(a.tc), s, "acquire", rec, deadline_after(dbl(env, a.v[2], -1)), nullptr,
                           done_arg(env, a.v[3]),
                           [s](SyncRec* r, bool) { return s->acquire_or_queue(r); }));
}

napi_value js_sem_acquire(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Semaphore* s = unwrap<Semaphore>(env, a.v[0], Kind::Semaphore);
  if (!s) return nullptr;
  return wait_async(env, a.tc, s, int64_t(dbl(env, a.v[1], 1)), "acquire", nullptr,
                    [s](SyncRec* r) { return s->acquire_or_queue(r); });
}

napi_value js_sem_release(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Semaphore* s = unwrap<Semaphore>(env, a.v[0], Kind::Semaphore);
  if (!s) return nullptr;
  return boolean(env, s->release_permits(int64_t(dbl(env, a.v[1], 1))));
}

// ---- Cond --------------------------------------------------------------------------------

napi_value js_cond_new(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Mutex* m = unwrap<Mutex>(env, a.v[0], Kind::Mutex);
  if (!m) return nullptr;
  return named(env, new Cond(m), a.v[1]);
}

// condWaiters(h) -> number queued
napi_value js_cond_waiters(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Cond* c = unwrap<Cond>(env, a.v[0], Kind::Cond);
  if (!c) return nullptr;
  return num(env, double(c->waiters()));
}

// condWaitSync(h, timeout) -> code; the mutex is held again when it returns (any code) unless
// the code is kCodeMisuse (it was not held) or kCodeStopped.
napi_value js_cond_wait_sync(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  Cond* c = unwrap<Cond>(env, a.v[0], Kind::Cond);
  if (!c) return nullptr;
  Mutex* m = c->mutex();
  if (!m->locked()) return num(env, kCodeMisuse);
  ThreadCtx* tc = a.tc;
  SyncRec rec;
  // Queue first, then release the mutex: a signal sent after our unlock finds us queued.
  int32_t code = block_on(block_thread(tc), c, "wait", rec, deadline_after(dbl(env, a.v[1], -1)), nullptr,
                          done_arg(env, a.v[2]), [c, m](SyncRec* r, bool first) {
                            if (!first) return false;
                            c->queue(r);
                            m->unlock();
                            return false;
                          });
  if (code == kCodeStopped) return num(env, code);
  SyncRec lrec;
  int32_t me = int32_t(tc->thread_id);
  if (!m->try_lock(me)) {
    int32_t lc = block_on(block_thread(tc), m, "lock", lrec, 0, nullptr, nullptr,
                          [m](SyncRec* r, bool first) { return m->lock_or_queue(r, !first); });
    if (lc != kCodeOk) return num(env, lc);
  }
  return num(env, code);
}

// condWait(h) -> Promise of [code] (the JS side re-locks the mutex afterwards)
napi_value js_cond_wait(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Cond* c = unwrap<Cond>(env, a.v[0], Kind::Cond);
  if (!c) return nullptr;
  Mutex* m = c->mutex();
  if (!m->locked()) {
    a.tc->status[abi::ix(abi::StatusSlot::Code)] = kCodeMisuse;
    return num(env, kCodeMisuse);
  }
  auto* op = new AsyncOp();
  op->prim = c;
  op->srec.w = op;
  a.tc->prepare_async(op);  // before queueing: a peer may complete it at once
  c->queue(&op->srec);
  a.tc->status[abi::ix(abi::StatusSlot::Code)] = kCodePending;
  napi_value p = a.tc->start_sync_async(op, "wait");
  m->unlock();
  return p;
}

napi_value js_cond_mutex(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Cond* c = unwrap<Cond>(env, a.v[0], Kind::Cond);
  if (!c) return nullptr;
  c->mutex()->retain();
  return make_handle(env, c->mutex());
}

// semState(h) -> [available, queued]
napi_value js_sem_state(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Semaphore* s = unwrap<Semaphore>(env, a.v[0], Kind::Semaphore);
  if (!s) return nullptr;
  int64_t avail = 0;
  size_t queued = 0;
  s->state(&avail, &queued);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, double(avail)));
  napi_set_element(env, arr, 1, num(env, double(queued)));
  return arr;
}

napi_value js_sem_size(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Semaphore* s = unwrap<Semaphore>(env, a.v[0], Kind::Semaphore);
  if (!s) return nullptr;
  return num(env, double(s->size()));
}

napi_value js_cond_signal(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Cond* c = unwrap<Cond>(env, a.v[0], Kind::Cond);
  if (!c) return nullptr;
  bool all = false;
  napi_get_value_bool(env, a.v[1], &all);
  if (all) c->broadcast(); else c->signal();
  return nullptr;
}

// ---- Once --------------------------------------------------------------------------------

napi_value js_once_new(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  return named(env, new Once(), a.v[0]);
}

// onceEnter(h) -> 0: run fn now; 2: done (read onceResult)
napi_value js_once_enter(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Once* o = unwrap<Once>(env, a.v[0], Kind::Once);
  if (!o) return nullptr;
  int32_t st = o->enter(a.tc->thread_id, nullptr);
  if (st == Once::kIdle) {
    o->retain();
    a.tc->running_onces.push_back(o);
  }
  return num(env, st);
}

// onceWaitSync(h, timeout, done?) -> code (kCodeRetry: the runner exited; call onceEnter
// again; kCodeDeadlock: this very thread is running fn, see lastError())
napi_value js_once_wait_sync(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  Once* o = unwrap<Once>(env, a.v[0], Kind::Once);
  if (!o) return nullptr;
  // fn is running on this thread (a recursive doSync, or a do() whose fn awaits): only this
  // thread can finish it, and it would be blocked. Only this thread can make it stop being
  // the runner, so the answer cannot change before we queue.
  if (o->running_on(a.tc->thread_id)) {
    a.tc->last_error = "thread " + std::to_string(a.tc->thread_id) + " calls doSync on " +
                       describe(o) +
                       " whose fn it is running itself (a recursive doSync, or an unfinished "
                       "do() on this thread that only its event loop can finish)";
    return num(env, kCodeDeadlock);
  }
  SyncRec rec;
  bool retry = false;
  int32_t code = block_on(block_thread(a.tc), o, "do", rec, deadline_after(dbl(env, a.v[1], -1)), nullptr,
                          done_arg(env, a.v[2]), [o, &retry, tc = a.tc](SyncRec* r, bool first) {
                            if (!first) {
                              retry = true;
                              return true;
                            }
                            // enter() with a record claims fn when the Once went idle
                            // since onceEnter (its runner exited): give the claim back
                            // (waking any queued caller) and start over from onceEnter,
                            // which claims it the way the JS side expects.
                            int32_t st = o->enter(tc->thread_id, r);
                            if (st == Once::kIdle) {
                              o->runner_exited(tc->thread_id);
                              retry = true;
                              return true;
                            }
                            return st != Once::kRunning;
                          });
  return num(env, retry ? kCodeRetry : code);
}

napi_value js_once_wait(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Once* o = unwrap<Once>(env, a.v[0], Kind::Once);
  if (!o) return nullptr;
  auto* op = new AsyncOp();
  op->prim = o;
  op->srec.w = op;
  a.tc->prepare_async(op);  // before queueing: a peer may complete it at once
  int32_t st = o->enter(a.tc->thread_id, &op->srec);
  if (st != Once::kRunning) {
    // kIdle: the runner exited since onceEnter and enter() made this thread the runner,
    // which the JS side does not know: give it back (as onceWaitSync does) and retry.
    if (st == Once::kIdle) o->runner_exited(a.tc->thread_id);
    delete op;
    a.tc->status[abi::ix(abi::StatusSlot::Code)] = kCodeRetry;
    return num(env, kCodeRetry);
  }
  a.tc->status[abi::ix(abi::StatusSlot::Code)] = kCodePending;
  return a.tc->start_sync_async(op, "do");
}

// onceFinish(h, bytes, refs, outcome: Once::Outcome)
napi_value js_once_finish(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  Once* o = unwrap<Once>(env, a.v[0], Kind::Once);
  if (!o) return nullptr;
  Message* m = message_from(env, a.v[1], a.v[2], a.tc);
  if (!m) return nullptr;
  int32_t outcome = int32_t(dbl(env, a.v[3]));
  if (outcome < Once::kValue || outcome > Once::kCloneError) outcome = Once::kError;
  o->finish(m, Once::Outcome(outcome));
  auto& ro = a.tc->running_onces;
  for (size_t i = 0; i < ro.size(); i++) {
    if (ro[i] == o) {
      ro.erase(ro.begin() + long(i));
      o->release();
      break;
    }
  }
  return nullptr;
}

// onceResult(h) -> byte length of the result (bytes in scratch, refs via takeRefs()), its
// outcome (Once::Outcome) in the status area's aux double; -1 while not done
napi_value js_once_result(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Once* o = unwrap<Once>(env, a.v[0], Kind::Once);
  if (!o) return nullptr;
  if (o->state() != Once::kDone) return num(env, -1);
  napi_value len = put_message(a.tc, o->result());
  a.tc->set_aux(double(o->outcome()));
  return len;
}

napi_value js_once_state(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Once* o = unwrap<Once>(env, a.v[0], Kind::Once);
  if (!o) return nullptr;
  return num(env, o->state());
}

}  // namespace

bool thread_alive(uint64_t id) {
  LiveThreads& l = live_threads();
  std::lock_guard<std::mutex> g(l.mu);
  return l.ids.count(id) != 0;
}

void register_sync_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  {
    LiveThreads& l = live_threads();
    std::lock_guard<std::mutex> g(l.mu);
    l.ids.insert(tc->thread_id);
  }
  napi_add_env_cleanup_hook(env, thread_gone, reinterpret_cast<void*>(uintptr_t(tc->thread_id)));
  const napi_property_descriptor table[] = {
      WEFT_FN("wgNew", js_wg_new, tc), WEFT_FN("wgWords", js_wg_words, tc), WEFT_FN("wgWake", js_wg_wake, tc),
      WEFT_FN("wgWaitSync", js_wg_wait_sync, tc), WEFT_FN("wgWait", js_wg_wait, tc),
      WEFT_FN("semNew", js_sem_new, tc), WEFT_FN("semTry", js_sem_try, tc),
      WEFT_FN("semAcquireSync", js_sem_acquire_sync, tc), WEFT_FN("semAcquire", js_sem_acquire, tc),
      WEFT_FN("semRelease", js_sem_release, tc),
      WEFT_FN("condNew", js_cond_new, tc), WEFT_FN("condWaitSync", js_cond_wait_sync, tc),
      WEFT_FN("condWait", js_cond_wait, tc), WEFT_FN("condSignal", js_cond_signal, tc),
      WEFT_FN("condMutex", js_cond_mutex, tc), WEFT_FN("semSize", js_sem_size, tc),
      WEFT_FN("onceNew", js_once_new, tc), WEFT_FN("onceEnter", js_once_enter, tc),
      WEFT_FN("onceWaitSync", js_once_wait_sync, tc), WEFT_FN("onceWait", js_once_wait, tc),
      WEFT_FN("onceFinish", js_once_finish, tc), WEFT_FN("onceResult", js_once_result, tc),
      WEFT_FN("onceState", js_once_state, tc), WEFT_FN("condWaiters", js_cond_waiters, tc),
      WEFT_FN("semState", js_sem_state, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
