// handle.cc — see handle.h.
#include "node/handle.h"

#include "node/napi_util.h"
#include "core/flat_map.h"

#include "node/thread_ctx.h"

namespace weft {

namespace {

using Counts = FlatMap<Shared*, int64_t, PtrHash>;

// Adds one to s's count (an absent key counts 0); false if memory ran out (nothing changed).
bool count_add(Counts& m, Shared* s) {
  int64_t* c = m.get_or_insert(s, 0);
  if (c == nullptr) return false;
  ++*c;
  return true;
}

// Takes one from s's count, removing it at 0; false if s had no count.
bool count_drop(Counts& m, Shared* s) {
  int64_t* c = m.find(s);
  if (c == nullptr) return false;
  if (--*c == 0) m.erase(s);
  return true;
}

struct Held {
  Counts n;
  // The same counts for the kinds that hold other objects (contexts, timers, conds): the
  // deadlock check walks these, never the whole map (a thread may hold millions of objects).
  Counts holders;
  bool dead = false;  // the environment ended; freed when the last count goes
};

bool is_holder(Shared* s) {
  Kind k = s->kind();
  return k == Kind::Context || k == Kind::Timer || k == Kind::Ticker || k == Kind::Cond;
}
// Per OS thread: a Node environment (main or worker) runs on one thread, and its handles'
// finalizers run on that thread, also during the environment's teardown (after ThreadCtx's
// cleanup hook has run, which is why this lives apart from ThreadCtx).
thread_local Held* t_held = nullptr;

void finalize_handle(napi_env, void* data, void*) {
  auto* s = static_cast<Shared*>(data);
  held_drop(s);  // before release(): the key must not outlive the object
  s->release();
}

}  // namespace

void held_add(Shared* s) {
  if (t_held == nullptr) t_held = new Held();
  // Out of memory: the object goes uncounted (the deadlock check may then take this
  // thread's handle for another thread's), and its drop finds nothing.
  if (count_add(t_held->n, s) && is_holder(s)) count_add(t_held->holders, s);
}

void held_drop(Shared* s) {
  Held* h = t_held;
  if (h == nullptr) return;
  if (!count_drop(h->n, s)) return;
  if (is_holder(s)) count_drop(h->holders, s);
  if (h->dead && h->n.empty()) {
    delete h;
    t_held = nullptr;
  }
}

void held_thread_exit() {
  Held* h = t_held;
  if (h == nullptr) return;
  h->dead = true;
  if (h->n.empty()) {
    delete h;
    t_held = nullptr;
  }
}

int64_t held_count(Shared* s) {
  if (t_held == nullptr) return 0;
  int64_t* c = t_held->n.find(s);
  return c == nullptr ? 0 : *c;
}

void held_holders_for_each(void (*fn)(void* arg, Shared* s), void* arg) {
  if (t_held == nullptr) return;
  t_held->holders.for_each([&](Shared* s, int64_t&) { fn(arg, s); });
}

napi_value make_handle(napi_env env, Shared* s) {
  held_add(s);
  napi_value ext;
  if (napi_create_external(env, s, finalize_handle, nullptr, &ext) != napi_ok) {
    // No handle (terminating environment, out of memory): the reference it would have
    // adopted is dropped here, or nobody would ever release it.
    s->release();
    return nullptr;
  }
  return ext;
}

napi_value handle_for(napi_env env, Shared* s) {
  s->retain();
  return make_handle(env, s);
}

napi_value js_share(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Shared* s = unwrap(env, a.v[0], Kind(0), Kind(0), "a weft object");
  if (!s) return nullptr;
  return num(env, double(s->share()));
}

napi_value js_attach(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Shared* s = Shared::attach(to_u64(dbl(env, a.v[0])));
  if (!s) {
    napi_value n;
    napi_get_null(env, &n);
    return n;
  }
  return make_handle(env, s);
}

napi_value js_kind_of(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Shared* s = peek(env, a.v[0]);  // not a handle: 0, no error (object.ts asks about any value)
  return i32(env, s == nullptr ? 0 : int32_t(s->kind()));
}

napi_value js_live_objects(napi_env env, napi_callback_info) {
  return num(env, double(Shared::live_count()));
}

napi_value js_take_refs(napi_env env, napi_callback_info) {
  ThreadCtx* tc = ThreadCtx::get(env);
  if (tc == nullptr) return nullptr;
  napi_value arr;
  if (napi_create_array_with_length(env, tc->last_refs.size(), &arr) != napi_ok) return nullptr;
  for (size_t i = 0; i < tc->last_refs.size(); i++)
    napi_set_element(env, arr, uint32_t(i), make_handle(env, tc->last_refs[i]));
  tc->last_refs.clear();
  tc->status[abi::ix(abi::StatusSlot::Refs)] = 0;
  return arr;
}

}  // namespace weft
