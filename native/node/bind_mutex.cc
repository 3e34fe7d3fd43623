// bind_mutex.cc — the Node-API functions behind Mutex and RWMutex (see bind_sync.h).
// Conventions as in bind_chan.cc: codes from thread_ctx.h. *Sync waits go through block_on
// (core/sync/block.h), Promise waits through wait_async (bind_wait.h).
#include <string>

#include "core/sync/mutex.h"
#include "node/bind_sync.h"
#include "node/bindings.h"
#include "node/marshal.h"
#include "node/bind_wait.h"

namespace weft {

namespace {

// ---- Mutex -------------------------------------------------------------------------------

napi_value js_mutex_new(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  return named(env, new Mutex(), a.v[0]);
}

napi_value js_mutex_words(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Mutex* m = unwrap<Mutex>(env, a.v[0], Kind::Mutex);
  if (!m) return nullptr;
  return words_buffer(env, m, m->words(), abi::kMutexWordsBytes);
}

// lockSync(h, timeout, done?) -> code (kCodeDeadlock: description via lastError())
napi_value js_mutex_lock_sync(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  Mutex* m = unwrap<Mutex>(env, a.v[0], Kind::Mutex);
  if (!m) return nullptr;
  ThreadCtx* tc = a.tc;
  int32_t me = int32_t(tc->thread_id);
  for (int i = 0; i < 64; i++) {  // brief optimistic spin
    if (m->try_lock(me)) return num(env, kCodeOk);
    cpu_relax();
  }
  if (m->locked() && m->owner() == me) {
    tc->last_error = "thread " + std::to_string(me) + " calls lockSync on a mutex" +
                     (m->name().empty() ? "" : " '" + m->name() + "'") + " it holds";
    return num(env, kCodeDeadlock);
  }
  SyncRec rec;
  int32_t code = block_on(block_thread(tc), m, "lock", rec, deadline_after(dbl(env, a.v[1], -1)), m,
                          done_arg(env, a.v[2]),
                          [m](SyncRec* r, bool first) { return m->lock_or_queue(r, !first); });
  return num(env, code);
}

bool mutex_retry(AsyncOp* op) {
  return static_cast<Mutex*>(op->prim)->lock_or_queue(&op->srec, true);
}

// lock(h) -> code (acquired) or Promise of [code]
napi_value js_mutex_lock(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Mutex* m = unwrap<Mutex>(env, a.v[0], Kind::Mutex);
  if (!m) return nullptr;
  return wait_async(env, a.tc, m, 1, "lock", mutex_retry,
                    [m](SyncRec* r) { return m->lock_or_queue(r, false); });
}

napi_value js_mutex_unlock(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Mutex* m = unwrap<Mutex>(env, a.v[0], Kind::Mutex);
  if (!m) return nullptr;
  return boolean(env, m->unlock());
}

napi_value js_mutex_wake(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Mutex* m = unwrap<Mutex>(env, a.v[0], Kind::Mutex);
  if (!m) return nullptr;
  m->wake_one();
  return nullptr;
}

// ---- RWMutex -----------------------------------------------------------------------------

napi_value js_rw_new(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  return named(env, new RWMutex(), a.v[0]);
}

// rwTry(h, writer) -> bool
napi_value js_rw_try(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  RWMutex* m = unwrap<RWMutex>(env, a.v[0], Kind::RWMutex);
  if (!m) return nullptr;
  bool writer = false;
  napi_get_value_bool(env, a.v[1], &writer);
  uint64_t me = a.tc->thread_id;
  return boolean(env, writer ? m->try_lock(me) : m->try_rlock(me));
}

// rwLockSync(h, writer, timeout, done?) -> code
napi_value js_rw_lock_sync(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  RWMutex* m = unwrap<RWMutex>(env, a.v[0], Kind::RWMutex);
  if (!m) return nullptr;
  bool writer = false;
  napi_get_value_bool(env, a.v[1], &writer);
  // A blocking lock on a lock this thread holds could only be released by another thread on
  // its behalf; like Mutex's self-lock, report it instead of hanging (Go deadlocks here too).
  // Only this thread changes what it holds itself, so the check cannot go stale before we queue.
  RWMutex::Held held = m->held_by(a.tc->thread_id);
  if (held != RWMutex::kHoldsNothing) {
    a.tc->last_error = "thread " + std::to_string(a.tc->thread_id) + " calls " +
                       (writer ? "lockSync" : "rlockSync") + " on " + describe(m) +
                       (held == RWMutex::kHoldsWrite
                            ? " whose write lock it holds"
                            : " while holding a read lock on it (a read lock cannot be upgraded)");
    return num(env, kCodeDeadlock);
  }
  SyncRec rec;
  rec.n = writer ? 1 : 0;
  // A lock cycle through the write lock (the writer waits, in a Sync call, for a lock this
  // thread holds) fails one waiter with DeadlockError, as for Mutex.
  int32_t code = block_on(block_thread(a.tc), m, writer ? "lock" : "rlock", rec,
                          deadline_after(dbl(env, a.v[2], -1)), m, done_arg(env, a.v[3]),
                          [m](SyncRec* r, bool) { return m->lock_or_queue(r); });
  return num(env, code);
}

napi_value js_rw_lock(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  RWMutex* m = unwrap<RWMutex>(env, a.v[0], Kind::RWMutex);
  if (!m) return nullptr;
  bool writer = false;
  napi_get_value_bool(env, a.v[1], &writer);
  return wait_async(env, a.tc, m, writer ? 1 : 0, writer ? "lock" : "rlock", nullptr,
                    [m](SyncRec* r) { return m->lock_or_queue(r); });
}

// rwUnlock(h, writer) -> bool (false: misuse)
napi_value js_rw_unlock(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  RWMutex* m = unwrap<RWMutex>(env, a.v[0], Kind::RWMutex);
  if (!m) return nullptr;
  bool writer = false;
  napi_get_value_bool(env, a.v[1], &writer);
  return boolean(env, writer ? m->unlock() : m->runlock(a.tc->thread_id));
}

// rwState(h) -> [readers, writer (0/1), writer thread (0: none/unknown), queued]
napi_value js_rw_state(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  RWMutex* m = unwrap<RWMutex>(env, a.v[0], Kind::RWMutex);
  if (!m) return nullptr;
  RWMutex::State st = m->state();
  napi_value arr;
  napi_create_array_with_length(env, 4, &arr);
  napi_set_element(env, arr, 0, num(env, double(st.readers)));
  napi_set_element(env, arr, 1, num(env, st.writer ? 1 : 0));
  napi_set_element(env, arr, 2, num(env, double(st.writer ? m->holder_thread() : 0)));
  napi_set_element(env, arr, 3, num(env, double(st.queued)));
  return arr;
}

}  // namespace

void register_mutex_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("mutexNew", js_mutex_new, tc), WEFT_FN("mutexWords", js_mutex_words, tc),
      WEFT_FN("mutexLockSync", js_mutex_lock_sync, tc), WEFT_FN("mutexLock", js_mutex_lock, tc),
      WEFT_FN("mutexUnlock", js_mutex_unlock, tc), WEFT_FN("mutexWake", js_mutex_wake, tc),
      WEFT_FN("rwNew", js_rw_new, tc), WEFT_FN("rwTry", js_rw_try, tc), WEFT_FN("rwLockSync", js_rw_lock_sync, tc),
      WEFT_FN("rwLock", js_rw_lock, tc), WEFT_FN("rwUnlock", js_rw_unlock, tc),
      WEFT_FN("rwState", js_rw_state, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
