// bind_dump.cc — the Node-API functions behind the diagnostics: dump() (what every thread is
// blocked on), threadId(), lastError(), and the names of objects (setName/objName).
#include <string>

#include "core/blocked.h"
#include "core/park/parker.h"
#include "core/shared.h"
#include "node/bind_sync.h"  // thread_alive()
#include "node/bindings.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

namespace {

napi_value js_dump(napi_env env, napi_callback_info) {
  auto list = blocked_snapshot();
  uint64_t now = now_ns();
  napi_value arr;
  napi_create_array_with_length(env, list.size(), &arr);
  for (size_t i = 0; i < list.size(); i++) {
    napi_value o, s;
    napi_create_object(env, &o);
    napi_set_named_property(env, o, "thread", num(env, double(list[i].thread)));
    napi_create_string_utf8(env, list[i].op.c_str(), NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, o, "op", s);
    napi_create_string_utf8(env, list[i].object.c_str(), NAPI_AUTO_LENGTH, &s);
    napi_set_named_property(env, o, "object", s);
    napi_set_named_property(env, o, "sinceMs", num(env, double(now - list[i].since_ns) / 1e6));
    if (list[i].holder != 0) {  // a Mutex or RWMutex write lock: who holds it, and is it alive
      napi_set_named_property(env, o, "holder", num(env, double(list[i].holder)));
      napi_set_named_property(env, o, "holderExited",
                              boolean(env, !thread_alive(list[i].holder)));
    }
    napi_set_element(env, arr, uint32_t(i), o);
  }
  return arr;
}

napi_value js_last_error(napi_env env, napi_callback_info info) {
  Args<0> a(env, info);
  napi_value s;
  napi_create_string_utf8(env, a.tc->last_error.c_str(), NAPI_AUTO_LENGTH, &s);
  return s;
}

napi_value js_thread_id(napi_env env, napi_callback_info info) {
  Args<0> a(env, info);
  return num(env, double(a.tc->thread_id));
}

// objName(h) -> the name given at creation ("" if none), on any thread
napi_value js_obj_name(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Shared* s = unwrap(env, a.v[0], Kind(0), Kind(0), "a weft object");
  if (!s) return nullptr;
  napi_value r;
  napi_create_string_utf8(env, s->name().c_str(), s->name().size(), &r);
  return r;
}

napi_value js_set_name(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Shared* s = unwrap(env, a.v[0], Kind(0), Kind(0), "a weft object");
  if (!s) return nullptr;
  s->set_name(str(env, a.v[1]));
  return nullptr;
}

}  // namespace

void register_dump_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("dump", js_dump, tc),
      WEFT_FN("lastError", js_last_error, tc),
      WEFT_FN("threadId", js_thread_id, tc),
      WEFT_FN("setName", js_set_name, tc),
      WEFT_FN("objName", js_obj_name, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
