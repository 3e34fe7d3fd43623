// binding.cc — registers the addon's functions; all logic lives in the per-concept files.
#include <node_api.h>

#include "handle.h"
#include "js_channel.h"
#include "js_sync.h"
#include "js_time.h"
#include "thread_ctx.h"

namespace weft {

// sab.cc: SharedArrayBuffer / WebAssembly.Module payloads of structured messages.
void register_payload_functions(napi_env env, napi_value exports, ThreadCtx* tc);

namespace {

// init(probe) -> [scratch ArrayBuffer, status ArrayBuffer]
napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  ThreadCtx* tc = ThreadCtx::get(env);
  tc->probe = Napi::Persistent(Napi::Function(env, argv[0]));
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, tc->scratch_ref.Value());
  napi_set_element(env, arr, 1, tc->status_ref.Value());
  return arr;
}

napi_value js_get_scratch(napi_env env, napi_callback_info) {
  return ThreadCtx::get(env)->scratch_ref.Value();
}

napi_value Init(napi_env env, napi_value exports) {
  auto* tc = new ThreadCtx(env);
  napi_set_instance_data(env, tc, nullptr, nullptr);  // freed by ThreadCtx's cleanup hook
  napi_property_descriptor props[] = {
      {"init", nullptr, js_init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getScratch", nullptr, js_get_scratch, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"share", nullptr, js_share, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attach", nullptr, js_attach, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"kindOf", nullptr, js_kind_of, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"liveObjects", nullptr, js_live_objects, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"takeRefs", nullptr, js_take_refs, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  register_channel_functions(env, exports, tc);
  register_time_functions(env, exports, tc);
  register_sync_functions(env, exports, tc);
  register_atomic_functions(env, exports, tc);
  register_payload_functions(env, exports, tc);
  return exports;
}

}  // namespace
}  // namespace weft

NAPI_MODULE(NODE_GYP_MODULE_NAME, weft::Init)
