// deadlock.cc — Go's "all goroutines are asleep" for one thread's pending Promise operations
// (API.md §9): when a thread's event loop has nothing left but weft operations that only it
// could complete, they reject with kCodeDeadlock instead of keeping the process alive forever.
//
// When. A uv_prepare handle (unref'd, so it never keeps the loop alive) runs before every
// poll. If strong ops are pending and nothing but them keeps the loop alive (uv_loop_alive
// with our async handle unref'd for the question), nothing on this thread can run again
// unless another thread completes one of them: the check below runs. This works the same on
// the main thread and in workers (which have no 'beforeExit'). As for Node's own exit, unref'd
// handles and timers do not count (an unref'd setTimeout that would complete the op does not
// save it; an AbortSignal, AbortSignal.timeout() included, does: see `external`).
//
// Who holds what. Each object has one reference count for every holder. This thread knows
// its own references exactly: its JS handles and word buffers (handle.cc's per-thread counts)
// and its pending ops' retains. Some objects hold others (a context its parent and done
// channel, a timer its channel, a Cond its mutex); those references are this thread's too when
// the holder itself is held only by this thread. Anything else — another thread's handles or
// ops, a message buffered in a channel, a share() token not yet attached, the timer heap (an
// armed timer or context deadline) — is "held elsewhere". A trial deletion over that small
// graph (iterate to a fixed point) gives the objects only this thread can reach ("closed").
// When every pending op (the weak context watchers included) waits only on closed objects and
// none has an ordinary AbortSignal, nothing can ever run on this thread again: the strong ops
// are asleep forever. If any op can still be ended by someone else, this thread's JavaScript
// may run again and complete the others itself, so they all wait.
//
// Soundness. A closed object can gain another holder only through this thread's JavaScript,
// which does not run while the loop is idle, so "asleep" is final; the op is withdrawn with
// the same claim CAS as a cancel (a completion that claimed it first wins and is delivered).
// An op on an object held elsewhere is watched: the thread registers as a watcher and asks
// release() to wake it when the object's count falls to this thread's share, then re-checks.
// Conservative cases (reported as possibly completable, so they wait as before): references
// inside buffered messages or context values, a Once this thread is running.
#include <string>
#include <unordered_map>
#include <vector>

#include "node/bindings.h"

#include "core/chan/channel.h"
#include "core/time/context.h"
#include "node/handle.h"
#include "node/napi_util.h"
#include "core/sync/cond.h"
#include "node/thread_ctx.h"
#include "core/time/timer.h"

namespace weft {

namespace {

// The references an object holds on other weft objects, one per entry (see the header).
template <class F>
void each_edge(Shared* s, F&& f) {
  switch (s->kind()) {
    case Kind::Context: {
      auto* c = static_cast<Context*>(s);
      if (c->parent() != nullptr) f(static_cast<Shared*>(c->parent()));
      f(static_cast<Shared*>(c->done()));
      break;
    }
    case Kind::Timer:
    case Kind::Ticker:
      f(static_cast<Shared*>(static_cast<Timer*>(s)->channel()));
      break;
    case Kind::Cond:
      f(static_cast<Shared*>(static_cast<Cond*>(s)->mutex()));
      break;
    default:
      break;
  }
}

bool is_holder_kind(Shared* s) {
  Kind k = s->kind();
  return k == Kind::Context || k == Kind::Timer || k == Kind::Ticker || k == Kind::Cond;
}

// Which context or timer owns a channel (its done / fire channel), for the messages.
using Owners = std::unordered_map<Shared*, Shared*>;

std::string describe_obj(Shared* s, const Owners& owners) {
  auto it = owners.find(s);
  if (it != owners.end()) {
    Kind k = it->second->kind();
    return k == Kind::Context ? "the done channel of a context"
                              : std::string("the channel of a ") + kind_name(k);
  }
  std::string k = s->kind() == Kind::Channel ? "channel" : kind_name(s->kind());
  if (!s->name().empty()) k += " '" + s->name() + "'";
  return k;
}

std::string describe_op(AsyncOp* op, const Owners& owners) {
  auto describe_obj = [&](Shared* s) { return weft::describe_obj(s, owners); };
  if (op->prim != nullptr) return std::string(op->blocked.op ? op->blocked.op : "wait") + " on " +
                                   describe_obj(op->prim);
  std::vector<CaseRec*> live;
  for (CaseRec& c : op->recs)
    if (c.ch != nullptr) live.push_back(&c);
  if (live.empty()) return "select with no cases";
  if (op->recs.size() == 1) return std::string(live[0]->is_send ? "send" : "recv") + " on " +
                                   describe_obj(live[0]->ch);
  std::string d = "select on";
  for (size_t i = 0; i < live.size(); i++)
    d += std::string(i ? ", " : " ") + (live[i]->is_send ? "send to " : "recv from ") +
         describe_obj(live[i]->ch);
  return d;
}

struct Node {
  int64_t local = 0;  // references this thread owns directly
  int64_t refs = 0;   // snapshot of the count
  int64_t acc = 0;    // local + references from closed holders
  bool open = false;  // held (possibly) by someone else
};
using Graph = std::unordered_map<Shared*, Node>;

// Step 1 (see check_unreachable): the graph from `roots`, the holders this thread's
// JavaScript holds, and what those hold. Every object reached is alive (see there).
void build_graph(Graph& g, std::vector<Shared*>& work) {
  for (Shared* s : work) g.try_emplace(s);
  auto add = [&](Shared* s) {
    if (g.try_emplace(s).second) work.push_back(s);
  };
  held_holders_for_each([](void* arg, Shared* s) {
    (*static_cast<decltype(add)*>(arg))(s);
  }, &add);
  while (!work.empty()) {
    Shared* s = work.back();
    work.pop_back();
    each_edge(s, add);
  }
  for (auto& [s, n] : g) n.local = held_count(s);
}

// Step 3: trial deletion. An object whose count exceeds what this thread (`local`, filled
// in by the caller) and the closed holders account for is open; repeat until nothing changes.
void mark_open(Graph& g) {
  for (auto& [s, n] : g) n.refs = s->refcount();
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& [s, n] : g) n.acc = n.local;
    for (auto& [s, n] : g)
      if (!n.open) each_edge(s, [&](Shared* e) { g[e].acc++; });
    for (auto& [s, n] : g) {
      if (!n.open && n.refs > n.acc) {
        n.open = true;
        changed = true;
      }
    }
  }
}

// Whether no thread but the calling one can reach any of `objs`: the graph of
// check_unreachable (this thread's handles, word buffers, the holders only it holds, and
// `pending`, its pending ops' retains, once each). For a thread parked in a *Sync wait: its
// JavaScript cannot run until the wait ends, so nothing it holds can reach another thread
// meanwhile. The counts are read while the wait is registered with every object, so a peer
// that held one and has let go since could only have completed us first (the caller then
// finds its waiter claimed: see ThreadCtx::sync_probe); a count read too high just means
// the wait looks again at the next slice. Fills *owners (for the message) when true.
bool all_closed(const std::vector<Shared*>& objs, const std::vector<Shared*>& pending, Owners* owners) {
  Graph g;
  std::vector<Shared*> work = objs;
  for (Shared* s : pending) work.push_back(s);
  build_graph(g, work);
  for (Shared* s : pending) g[s].local++;
  mark_open(g);
  for (Shared* s : objs)
    if (g[s].open) return false;
  for (auto& entry : g) {
    Shared* o = entry.first;  // no structured binding: lambdas capture one from clang 16 on
    if (o->kind() != Kind::Cond)
      each_edge(o, [&](Shared* e) {
        if (e->kind() == Kind::Channel) (*owners)[e] = o;
      });
  }
  return true;
}

std::string asleep_message(uint64_t thread, const std::string& what) {
  return "all threads are asleep: thread " + std::to_string(thread) + " blocked in " + what +
         ", which only it holds, so it can never complete";
}

}  // namespace

bool ThreadCtx::unreach_init() noexcept {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return false;
  prepare_ = new (std::nothrow) uv_prepare_t;
  if (prepare_ == nullptr) return false;
  if (uv_prepare_init(loop, prepare_) != 0) {
    delete prepare_;  // never initialised: nothing to close
    prepare_ = nullptr;
    return false;
  }
  prepare_->data = this;
  uv_prepare_start(prepare_, &ThreadCtx::on_prepare);
  uv_unref(reinterpret_cast<uv_handle_t*>(prepare_));  // never keeps the loop alive
  return true;
}

void ThreadCtx::unreach_cleanup() {
  // Before the async handle goes: no release() on another thread may wake us after this.
  if (watching_) Shared::watcher_remove(this);
  watching_ = false;
  held_thread_exit();
  if (prepare_ != nullptr) {
    uv_prepare_stop(prepare_);
    uv_close(reinterpret_cast<uv_handle_t*>(prepare_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_prepare_t*>(h); });
    prepare_ = nullptr;
  }
}

void ThreadCtx::unreach_wake(void* key) {
  // Called by release() on any thread, under the registry's watcher lock, which this thread
  // takes to unregister before its async handle is closed.
  uv_async_send(static_cast<ThreadCtx*>(key)->uv());
}

void ThreadCtx::op_depends(uint64_t id, Shared* done) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  AsyncOp* op = it->second;
  if (done == nullptr) {
    op->external = true;
    return;
  }
  if (op->also != nullptr) return;
  done->retain();  // released in async_free
  op->also = done;
}

void ThreadCtx::on_prepare(uv_prepare_t* h) {
  auto* tc = static_cast<ThreadCtx*>(h->data);
  bool idle = false;
  // A completion already in the inbox (e.g. a send on this thread that handed its value to
  // this thread's pending receive) will run JavaScript here on this very iteration: not idle,
  // even though the async handle is unref'd for the question below.
  if (!tc->stopping && tc->strong_ > 0 && tc->inbox_->empty()) {
    // Would the loop still be alive without our pending ops? (Other handles, requests,
    // timers, workers, sockets: then something else may still run on this thread.)
    auto* ah = reinterpret_cast<uv_handle_t*>(tc->uv());
    uv_unref(ah);
    idle = !uv_loop_alive(h->loop);
    uv_ref(ah);
  }
  if (!idle) {
    if (tc->watching_) {
      Shared::watcher_remove(tc);
      tc->watching_ = false;
    }
    return;
  }
  tc->check_unreachable();
}

void ThreadCtx::check_unreachable() {
  for (int attempt = 0; attempt < 8; attempt++) {
    // 1. The graph: the objects this thread's ops wait on, the holders (contexts, timers,
    // conds) its JavaScript holds, and what those hold. Every object reached is alive: the
    // first ones are held by this thread, the others by a holder reached before (holders
    // never drop what they hold while they live, and no JavaScript runs here).
    Graph g;
    std::vector<Shared*> work = pending_objects();
    build_graph(g, work);
    // 2. This thread's own references: its JavaScript's (build_graph), and its pending ops'
    // retains.
    for (Shared* s : pending_objects()) g[s].local++;
    // 3. Trial deletion.
    mark_open(g);
    auto open = [&](Shared* s) { auto it = g.find(s); return it == g.end() || it->second.open; };
    // 4. Asleep only if no pending op at all can be ended by someone else: once any one
    // completes (or a context watcher fires), this thread's JavaScript runs again and may
    // complete the others itself (Go: "all goroutines are asleep", per thread here).
    std::vector<AsyncOp*> asleep;
    std::vector<Shared*> watch;  // the open objects of one op that can still be ended
    for (auto& [id, op] : pending_) {
      if (op->external) {
        // An ordinary AbortSignal: whoever aborts it wakes this thread; nothing to watch.
        if (watch.empty()) watch.push_back(nullptr);
        continue;
      }
      std::vector<Shared*> mine;
      if (op->also != nullptr && open(op->also)) mine.push_back(op->also);
      if (op->prim != nullptr && open(op->prim)) mine.push_back(op->prim);
      for (CaseRec& c : op->recs)
        if (c.ch != nullptr && open(c.ch)) mine.push_back(c.ch);
      if (!mine.empty()) {
        if (watch.empty()) watch = std::move(mine);
      } else if (!op->weak) {
        asleep.push_back(op);
      }
    }
    if (watch.empty()) {
      if (asleep.empty()) return;
      Owners owners;
      for (auto& entry : g) {
        Shared* o = entry.first;  // no structured binding: lambdas capture one from clang 16 on
        if (o->kind() != Kind::Cond)
          each_edge(o, [&](Shared* e) {
            if (e->kind() == Kind::Channel) owners[e] = o;
          });
      }
      std::vector<std::string> desc;
      for (AsyncOp* op : asleep) desc.push_back(describe_op(op, owners));
      reject_asleep(asleep, desc);
      // The rejections ran JavaScript that may have left new ops or work: look again on the
      // next loop iteration (prepare runs once per iteration, before the poll).
      uv_async_send(uv());
      return;
    }
    if (watch[0] == nullptr) return;
    // 5. Watch: this thread can be all asleep only once every object of that op is closed.
    // Such an object closes when its count falls to `acc`, or when `acc` grows because one of
    // its holders closed: so watch that op's objects and every open holder in the graph.
    // Register first, then set the levels, each with a CAS that also reads the count (see
    // Shared::watch_below): a drop not seen here is a release() that sees the level.
    for (auto& [s, n] : g)
      if (n.open && is_holder_kind(s)) watch.push_back(s);
    if (!watching_) {
      Shared::watcher_add(this, &ThreadCtx::unreach_wake);
      watching_ = true;
    }
    bool stable = true;
    for (Shared* s : watch) {
      Node& n = g[s];
      if (s->watch_below(n.acc) != n.refs) stable = false;
    }
    if (stable) return;
  }
  uv_async_send(uv());  // counts kept moving: try again on the next iteration
}

std::vector<Shared*> ThreadCtx::pending_objects() const {
  std::vector<Shared*> out;
  for (auto& [id, op] : pending_) {
    if (op->prim != nullptr) out.push_back(op->prim);
    for (CaseRec& c : op->recs)
      if (c.ch != nullptr) out.push_back(c.ch);
    if (op->also != nullptr) out.push_back(op->also);
  }
  return out;
}

bool ThreadCtx::sync_asleep(const CaseRec* recs, int32_t n, const char* op) {
  std::vector<Shared*> objs;
  for (int32_t i = 0; i < n; i++)
    if (recs[i].ch != nullptr) objs.push_back(recs[i].ch);
  Owners owners;
  if (objs.empty() || !all_closed(objs, pending_objects(), &owners)) return false;
  std::string d = op;
  for (int32_t i = 0; i < n; i++) {
    if (recs[i].ch == nullptr) continue;
    d += std::string(d == op ? " " : ", ") + (n == 1 ? "on " : recs[i].is_send ? "send to " : "recv from ") +
         describe_obj(recs[i].ch, owners);
  }
  last_error = asleep_message(thread_id, d);
  return true;
}

bool ThreadCtx::prim_asleep(void* arg, Shared* prim, Channel* done, const char* what, std::string* why) {
  auto* tc = static_cast<ThreadCtx*>(arg);
  std::vector<Shared*> objs{prim};
  if (done != nullptr) objs.push_back(done);
  Owners owners;
  if (!all_closed(objs, tc->pending_objects(), &owners)) return false;
  *why = asleep_message(tc->thread_id, std::string(what) + " on " + describe_obj(prim, owners));
  return true;
}

bool ThreadCtx::sync_probe(void* arg) {
  auto* w = static_cast<SyncWait*>(arg);
  if (stop_probe(w->tc)) return true;
  if (w->infinite && w->tc->sync_asleep(w->recs, w->n, w->op)) {
    // A peer that completed us and then let go of the channel (a timer that fired: it claims
    // the waiter, then drops its heap reference) left counts that say "nobody else", but the
    // wait is done: look at the claim before calling it asleep. The acquire fence makes the
    // counts read above (relaxed) synchronize with the releaser's acq_rel decrement, which
    // follows its claim CAS, so a claim behind a count we saw is visible here.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (w->waiter->state.load(std::memory_order_acquire) != kWaiting) return false;
    w->asleep = true;
    return true;
  }
  return false;
}

void ThreadCtx::reject_asleep(const std::vector<AsyncOp*>& ops,
                              const std::vector<std::string>& desc) {
  std::vector<uint64_t> ids;
  for (AsyncOp* op : ops) ids.push_back(op->op_id);
  for (size_t i = 0; i < ids.size(); i++) {
    // Looked up again: the reactions to an earlier rejection ran JavaScript, which may have
    // settled (and freed) this op already, e.g. through an abort listener.
    auto it = pending_.find(ids[i]);
    if (it == pending_.end()) continue;
    AsyncOp* op = it->second;
    // The claim CAS decides against a completion in flight (none is expected: nobody else
    // holds the objects): if a peer claimed the op first, its completion is delivered.
    if (!async_withdraw(op)) continue;
    std::string msg = "all threads are asleep: " + desc[i] + " can never complete";
    if (ops.size() > 1) {
      // At most kNamed of the others by name: a program can strand thousands of receives at
      // once, and naming every other one in every message grew as the square of their count
      // (20,000 stranded receives made 20,000 messages of ~340 KB each).
      constexpr size_t kNamed = 8;
      msg += " (nor can:";
      size_t named = 0;
      for (size_t j = 0; j < ops.size() && named < kNamed; j++) {
        if (j == i) continue;
        msg += std::string(named == 0 ? " " : ", ") + desc[j];
        named++;
      }
      size_t others = ops.size() - 1;
      if (others > named) msg += ", and " + std::to_string(others - named) + " more";
      msg += ")";
    }
    // One callback scope per op: its rejection's reactions (which read lastError()) run
    // when the scope closes, before the next op's message replaces it.
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_callback_scope cb_scope;
    napi_open_callback_scope(env, ref_value(resource_), async_ctx_, &cb_scope);
    last_error = std::move(msg);
    settle(op, kCodeDeadlock, SelectOut());
    napi_close_callback_scope(env, cb_scope);
    napi_close_handle_scope(env, scope);
  }
}

// opDepends(id, doneHandle | null)
napi_value js_op_depends(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  double id = 0;
  napi_get_value_double(env, a.v[0], &id);
  Shared* done = nullptr;
  if (!unwrap_opt<Shared>(env, a.v[1], Kind::Channel, &done)) return nullptr;
  a.tc->op_depends(uint64_t(id), done);
  return nullptr;
}

void register_unreach_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("opDepends", js_op_depends, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
