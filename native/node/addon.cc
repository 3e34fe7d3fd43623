// addon.cc — registers the addon's functions; all logic lives in the per-concept files.
#if defined(_WIN32)
#include "core/win32.h"  // GetModuleHandleExW
#else
#include <dlfcn.h>  // dladdr, dlopen (glibc, musl, macOS)
#endif
#include <node_api.h>

#include <atomic>
#include <utility>

#include "core/abi.h"
#include "node/bindings.h"
#include "node/handle.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

namespace {

// init(probe, settle) -> [scratch ArrayBuffer, status ArrayBuffer] (undefined if this
// thread's context could not be set up: lib/internal/native.ts reports that). settle(opId,
// value, error?) is called when a pending async op completes (ThreadCtx::settle).
napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  ThreadCtx* tc = ThreadCtx::get(env);
  if (tc == nullptr) return nullptr;
  bool main = false;
  if (argc >= 3 && napi_get_value_bool(env, argv[2], &main) == napi_ok) tc->is_main = main;
  if (argc >= 1 && tc->probe == nullptr) napi_create_reference(env, argv[0], 1, &tc->probe);
  if (argc >= 2 && tc->settle_fn == nullptr)
    napi_create_reference(env, argv[1], 1, &tc->settle_fn);
  napi_value arr, sc = tc->ref_value(tc->scratch_ref), st = tc->ref_value(tc->status_ref);
  if (sc == nullptr || st == nullptr || napi_create_array_with_length(env, 2, &arr) != napi_ok)
    return nullptr;
  napi_set_element(env, arr, 0, sc);
  napi_set_element(env, arr, 1, st);
  return arr;
}

// abi() -> { name: value } of the layout this addon was built with (native/core/abi.h), named as in
// lib/internal/abi.ts ("kAbiVersion", "StatusSlot.Refs", ...): lib/internal/native.ts compares every entry with
// its generated copy at import and refuses a mismatched build before touching shared memory.
napi_value js_abi(napi_env env, napi_callback_info) {
  using namespace abi;
  const std::pair<const char*, double> entries[] = {
      {"kAbiVersion", kAbiVersion},
      {"kStatusSlots", kStatusSlots},
      {"kStatusOpIdByteOffset", kStatusOpIdByteOffset},
      {"kStatusAuxByteOffset", kStatusAuxByteOffset},
      {"kStatusBytes", kStatusBytes},
      {"StatusSlot.Code", ix(StatusSlot::Code)},
      {"StatusSlot.Refs", ix(StatusSlot::Refs)},
      {"StatusSlot.SelectIndex", ix(StatusSlot::SelectIndex)},
      {"kMutexWordsBytes", kMutexWordsBytes},
      {"MutexWord.State", ix(MutexWord::State)},
      {"MutexWord.Owner", ix(MutexWord::Owner)},
      {"kMutexLocked", kMutexLocked},
      {"kWaitGroupWordsBytes", kWaitGroupWordsBytes},
      {"WaitGroupWord.Counter", ix(WaitGroupWord::Counter)},
      {"WaitGroupWord.Waiters", ix(WaitGroupWord::Waiters)},
      {"kAtomicWordsBytes", kAtomicWordsBytes},
      {"kMaxCapacity", kMaxCapacity},
      {"kRingHeadByteOffset", kRingHeadByteOffset},
      {"kRingTailByteOffset", kRingTailByteOffset},
      {"kRingRecvWaitingByteOffset", kRingRecvWaitingByteOffset},
      {"kRingSendWaitingByteOffset", kRingSendWaitingByteOffset},
      {"kRingCapacityByteOffset", kRingCapacityByteOffset},
      {"kRingMarkBitByteOffset", kRingMarkBitByteOffset},
      {"kRingOneLapByteOffset", kRingOneLapByteOffset},
      {"kRingHeaderBytes", kRingHeaderBytes},
      {"kRingSlotBytes", kRingSlotBytes},
      {"kRingSlotStampByteOffset", kRingSlotStampByteOffset},
      {"kRingSlotValueByteOffset", kRingSlotValueByteOffset},
      {"kRingInlineBytes", kRingInlineBytes},
      {"kRingInlineMaxCapacity", kRingInlineMaxCapacity},
      {"AtomicBoolWord.Value", ix(AtomicBoolWord::Value)},
      {"Code.Pending", ix(abi::Code::Pending)},
      {"Code.Retry", ix(abi::Code::Retry)},
      {"Kind.Payload", ix(Kind::Payload)},
      {"Kind.Heartbeat", ix(Kind::Heartbeat)},
      {"Elem.Bool", ix(Elem::Bool)},
      {"SelectMode.Async", ix(SelectMode::Async)},
      {"AtomOp.Cas", ix(AtomOp::Cas)},
  };
  napi_value o;
  if (napi_create_object(env, &o) != napi_ok) return nullptr;
  for (const auto& [name, value] : entries) {
    napi_value v;
    if (napi_create_double(env, value, &v) != napi_ok) return nullptr;
    if (napi_set_named_property(env, o, name, v) != napi_ok) return nullptr;
  }
  return o;
}

napi_value js_get_scratch(napi_env env, napi_callback_info) {
  ThreadCtx* tc = ThreadCtx::get(env);
  return tc == nullptr ? nullptr : tc->ref_value(tc->scratch_ref);
}

// Test hook (internal; lib/ never calls it): __setNextOpId(n) makes n the id of this thread's
// next async operation, so tests can cross 2^31 and 2^32 without 2^31 operations.
napi_value js_set_next_op_id(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  double n = dbl(env, a.v[0], 1);
  if (!(n >= 1 && n <= 9007199254740991.0)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "n must be an integer from 1 to 2^53-1");
    return nullptr;
  }
  a.tc->set_next_op_id(uint64_t(n));
  return nullptr;
}

// Keeps this shared library mapped until the process exits (RTLD_NODELETE; the handle is
// never closed). Node unloads an addon when the last environment that loaded it ends, but
// weft's state is process-wide and outlives any one environment: the timer thread (detached,
// it runs this library's code until its heap is empty), objects in flight between threads
// (share() tokens, which keep their object alive until attached, also across the sharing
// thread's exit), the registry. Unloading under any of these is a segfault (a worker used
// timers and exited while the main thread never imported weft) or a lost object. The per-
// environment uv handle does not rely on this: it closes through an async cleanup hook
// (thread_ctx.cc), so an environment never ends with addon code still queued on its loop.
void pin_library() {
  static std::atomic<bool> pinned{false};
  if (pinned.exchange(true, std::memory_order_relaxed)) return;  // once per process is enough
#if defined(_WIN32)
  // The same on Windows: GET_MODULE_HANDLE_EX_FLAG_PIN keeps the DLL until the process ends.
  HMODULE self = nullptr;
  (void)GetModuleHandleExW(
      GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
      reinterpret_cast<LPCWSTR>(reinterpret_cast<void*>(&pin_library)), &self);
#else
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&pin_library), &info) == 0 || info.dli_fname == nullptr)
    return;
  // RTLD_NOLOAD: only adds the flag to the copy already loaded (never loads a second one).
  (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
#endif
}

napi_value Init(napi_env env, napi_value exports) {
  pin_library();
  // A worker terminated while it loads weft makes every Node-API call here fail: give up
  // quietly (exports stays empty; lib/internal/native.ts throws a plain Error if JS still runs).
  ThreadCtx* tc = ThreadCtx::create(env);
  if (tc == nullptr) return nullptr;
  if (napi_set_instance_data(env, tc, nullptr, nullptr) != napi_ok) {  // freed by cleanup
    return nullptr;  // tc's cleanup hook is registered: it frees tc with the environment
  }
  const napi_property_descriptor table[] = {
      WEFT_FN("abi", js_abi, nullptr),
      WEFT_FN("init", js_init, nullptr),
      WEFT_FN("getScratch", js_get_scratch, nullptr),
      WEFT_FN("share", js_share, nullptr),
      WEFT_FN("attach", js_attach, nullptr),
      WEFT_FN("kindOf", js_kind_of, nullptr),
      WEFT_FN("liveObjects", js_live_objects, nullptr),
      WEFT_FN("takeRefs", js_take_refs, nullptr),
      WEFT_FN("__setNextOpId", js_set_next_op_id, tc),
  };
  if (register_functions(env, exports, table) != napi_ok) return nullptr;
  register_channel_functions(env, exports, tc);
  register_batch_functions(env, exports, tc);
  register_select_functions(env, exports, tc);
  register_timer_functions(env, exports, tc);
  register_context_functions(env, exports, tc);
  register_sync_functions(env, exports, tc);
  register_mutex_functions(env, exports, tc);
  register_atomic_functions(env, exports, tc);
  register_dump_functions(env, exports, tc);
  register_unreach_functions(env, exports, tc);
  register_payload_functions(env, exports, tc);
  register_runtime_functions(env, exports, tc);
  register_rate_functions(env, exports, tc);
  return exports;
}

}  // namespace
}  // namespace weft

NAPI_MODULE(NODE_GYP_MODULE_NAME, weft::guarded_init<weft::Init>)
