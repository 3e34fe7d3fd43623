// bind_runtime.cc — Node-API glue of the goroutine runtime (lib/runtime/): the process-wide
// task table and root slot (core/runtime/tasks.h), and which threads are blocked in a *Sync
// call right now (the pool manager's hand-off signal, like Go's sysmon seeing an M in a
// syscall).
#include <node_api.h>

#include <string>
#include <unordered_set>

#include "core/blocked.h"
#include "core/park/parker.h"
#include "core/runtime/tasks.h"
#include "node/bindings.h"
#include "node/handle.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {
namespace {

using runtime::TaskState;

// rtRoot(candidate) -> the process's root object (candidate if this call installed it).
napi_value js_rt_root(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Shared* c = unwrap<Shared>(env, a.v[0], Kind::Value);
  if (!c) return nullptr;
  return make_handle(env, runtime::root_get_or_set(c));
}

// rtName(module, exportName) -> the interned id of "module#exportName";
// rtNameOf(id) -> [module, exportName].
napi_value js_rt_name(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  std::string mod = str(env, a.v[0]);
  size_t split = mod.size();
  return num(env, double(runtime::name_intern(mod + "#" + str(env, a.v[1]), split)));
}

napi_value js_rt_name_of(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  size_t split = 0;
  std::string name = runtime::name_of(uint32_t(dbl(env, a.v[0])), &split);
  if (split > name.size()) split = name.size();
  napi_value arr, m, e;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_string_utf8(env, name.data(), split, &m);
  size_t rest = split < name.size() ? split + 1 : name.size();
  napi_create_string_utf8(env, name.data() + rest, name.size() - rest, &e);
  napi_set_element(env, arr, 0, m);
  napi_set_element(env, arr, 1, e);
  return arr;
}

// rtTaskEndMany(ids) -> undefined: task_end for each id of the array (one call for a batch of outcomes).
napi_value js_rt_task_end_many(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  uint32_t n = 0;
  napi_get_array_length(env, a.v[0], &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, a.v[0], i, &v);
    runtime::task_end(to_u64(dbl(env, v)));
  }
  return nullptr;
}

// rtTaskAdd(pool, name id, reply channel) -> task id
napi_value js_rt_task_add(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  Shared* reply = unwrap<Shared>(env, a.v[2], Kind::Channel);
  if (!reply) return nullptr;
  // The caller's handle owns a reference, so this retain cannot revive a dead count; the
  // table owns the new one until task_end / task_claim.
  reply->retain();
  return num(env, double(runtime::task_add(to_u64(dbl(env, a.v[0])), uint32_t(dbl(env, a.v[1])), reply)));
}

// rtTaskRun(id) -> false if the task was already failed by the manager
napi_value js_rt_task_run(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  return boolean(env, runtime::task_run(to_u64(dbl(env, a.v[0])), a.tc->thread_id));
}

// rtTaskReply(id) -> the task's reply channel (a new handle), or null if it is not in the table.
// A pool thread asks once per submitting thread and caches it (tasks carry a key, not the channel).
napi_value js_rt_task_reply(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Shared* reply = runtime::task_reply(to_u64(dbl(env, a.v[0])));
  if (reply == nullptr) {
    napi_value n;
    napi_get_null(env, &n);
    return n;
  }
  return make_handle(env, reply);  // adopts the reference task_reply took
}

napi_value js_rt_task_end(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  return boolean(env, runtime::task_end(to_u64(dbl(env, a.v[0]))));
}

// rtTasks() -> [id, pool, name, thread, running, sinceMs][]
napi_value js_rt_tasks(napi_env env, napi_callback_info) {
  auto list = runtime::task_list();
  uint64_t now = now_ns();
  napi_value arr;
  napi_create_array_with_length(env, list.size(), &arr);
  for (size_t i = 0; i < list.size(); i++) {
    const auto& t = list[i];
    napi_value row, s;
    napi_create_array_with_length(env, 6, &row);
    napi_set_element(env, row, 0, num(env, double(t.id)));
    napi_set_element(env, row, 1, num(env, double(t.pool)));
    napi_create_string_utf8(env, t.name.c_str(), t.name.size(), &s);
    napi_set_element(env, row, 2, s);
    napi_set_element(env, row, 3, num(env, double(t.thread)));
    napi_set_element(env, row, 4, boolean(env, t.state == TaskState::kRunning));
    napi_set_element(env, row, 5, num(env, double(now - t.since_ns) / 1e6));
    napi_set_element(env, arr, uint32_t(i), row);
  }
  return arr;
}

// rtTaskClaim(pool, thread) -> [id, reply channel handle][]
napi_value js_rt_task_claim(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  auto list = runtime::task_claim(to_u64(dbl(env, a.v[0])), to_u64(dbl(env, a.v[1])));
  napi_value arr;
  napi_create_array_with_length(env, list.size(), &arr);
  for (size_t i = 0; i < list.size(); i++) {
    napi_value row;
    napi_create_array_with_length(env, 2, &row);
    napi_set_element(env, row, 0, num(env, double(list[i].first)));
    napi_set_element(env, row, 1, make_handle(env, list[i].second));  // adopts the reference
    napi_set_element(env, arr, uint32_t(i), row);
  }
  return arr;
}

napi_value js_rt_task_count(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  return num(env, double(runtime::task_count(to_u64(dbl(env, a.v[0])))));
}

napi_value js_rt_task_total(napi_env env, napi_callback_info) {
  return num(env, double(runtime::task_total()));
}

// rtSyncThreads() -> ids of the threads blocked in a *Sync call right now (each once). A
// snapshot: a thread may enter or leave its wait right after; the manager polls it.
napi_value js_rt_sync_threads(napi_env env, napi_callback_info) {
  std::unordered_set<uint64_t> ids;
  for (uint64_t t : blocked_sync_threads()) ids.insert(t);
  napi_value arr;
  napi_create_array_with_length(env, ids.size(), &arr);
  uint32_t i = 0;
  for (uint64_t id : ids) napi_set_element(env, arr, i++, num(env, double(id)));
  return arr;
}

}  // namespace

void register_runtime_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("rtRoot", js_rt_root, tc),           WEFT_FN("rtTaskAdd", js_rt_task_add, tc),
      WEFT_FN("rtTaskRun", js_rt_task_run, tc),     WEFT_FN("rtTaskEnd", js_rt_task_end, tc),
      WEFT_FN("rtTasks", js_rt_tasks, tc),         WEFT_FN("rtTaskClaim", js_rt_task_claim, tc),
      WEFT_FN("rtTaskCount", js_rt_task_count, tc), WEFT_FN("rtSyncThreads", js_rt_sync_threads, tc),
      WEFT_FN("rtTaskReply", js_rt_task_reply, tc), WEFT_FN("rtTaskTotal", js_rt_task_total, tc),
      WEFT_FN("rtName", js_rt_name, tc),           WEFT_FN("rtNameOf", js_rt_name_of, tc),
      WEFT_FN("rtTaskEndMany", js_rt_task_end_many, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
