// bind_payload.cc — the one place where weft uses V8's C++ API next to Node-API.
//
// Node-API (as of Node 20) cannot create a SharedArrayBuffer over existing memory, nor keep a
// SharedArrayBuffer's memory alive from native code, nor look at a compiled WebAssembly
// module. V8 can: a SharedArrayBuffer's memory is a reference-counted v8::BackingStore
// (std::shared_ptr, safe to copy and drop on any thread) and a WebAssembly.Module's code is a
// v8::CompiledWasmModule (which shares the engine's native module). This is what Node's own
// postMessage carries between threads. Here each is held by a `Payload` — a Shared object like
// every weft object, so a message carries it in Message::refs exactly as it carries a channel:
// the message's reference keeps the memory alive while the message is buffered, and dropping
// the message (or the last handle) drops it.
//
// Conversion between the two APIs: in Node's implementation a napi_value *is* a
// v8::Local<v8::Value> (both are a single pointer to a handle slot; js_native_api_v8.h
// converts with a plain bit copy). to_v8/from_v8 below are the only places that rely on this.
#include <node_api.h>
#include <v8.h>

#include <cstring>
#include <memory>
#include <optional>

#include "node/bindings.h"
#include "node/handle.h"
#include "node/napi_util.h"
#include "core/shared.h"

namespace weft {
namespace {

static_assert(sizeof(napi_value) == sizeof(v8::Local<v8::Value>),
              "napi_value and v8::Local<v8::Value> must have the same representation");

v8::Local<v8::Value> to_v8(napi_value v) {
  v8::Local<v8::Value> l;
  std::memcpy(static_cast<void*>(&l), &v, sizeof v);
  return l;
}

napi_value from_v8(v8::Local<v8::Value> l) {
  napi_value v;
  std::memcpy(&v, static_cast<void*>(&l), sizeof v);
  return v;
}

// What a message carries for a SharedArrayBuffer (store) or a WebAssembly.Module (module).
// Immutable after construction, so any thread may read it while it holds a reference.
class Payload final : public Shared {
 public:
  explicit Payload(std::shared_ptr<v8::BackingStore> s) : Shared(Kind::Payload), store(std::move(s)) {}
  explicit Payload(v8::CompiledWasmModule m) : Shared(Kind::Payload), module(std::move(m)) {}
  const std::shared_ptr<v8::BackingStore> store;
  const std::optional<v8::CompiledWasmModule> module;
};

// payloadWrap(sab | WebAssembly.Module) -> handle
napi_value js_payload_wrap(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  v8::Local<v8::Value> v = to_v8(a.v[0]);
  Payload* p = nullptr;
  if (v->IsSharedArrayBuffer()) {
    p = new Payload(v.As<v8::SharedArrayBuffer>()->GetBackingStore());
  } else if (v->IsWasmModuleObject()) {
    p = new Payload(v.As<v8::WasmModuleObject>()->GetCompiledModule());
  } else {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a SharedArrayBuffer or WebAssembly.Module");
    return nullptr;
  }
  return make_handle(env, p);  // adopts the reference the constructor created
}

// payloadUnwrap(handle) -> a new SharedArrayBuffer over the same memory, or a new
// WebAssembly.Module object sharing the same compiled code.
napi_value js_payload_unwrap(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  auto* p = unwrap<Payload>(env, a.v[0], Kind::Payload, Kind(0), "a payload handle");
  if (p == nullptr) return nullptr;
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (p->store) return from_v8(v8::SharedArrayBuffer::New(isolate, p->store));
  v8::Local<v8::WasmModuleObject> m;
  if (!v8::WasmModuleObject::FromCompiledModule(isolate, *p->module).ToLocal(&m)) {
    napi_throw_error(env, nullptr, "weft: could not instantiate a WebAssembly.Module");
    return nullptr;
  }
  return from_v8(m);
}

// strOneByte(s) -> whether V8 holds the string one byte (ISO-8859-1) per character. O(1): it
// reads the representation, not the characters (false negatives are possible; the codec then
// sends UTF-16, which is exact too).
napi_value js_str_one_byte(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  v8::Local<v8::Value> v = to_v8(a.v[0]);
  napi_value r;
  napi_get_boolean(env, v->IsString() && v.As<v8::String>()->IsOneByte(), &r);
  return r;
}

// arrayExtraKeys(array) -> the own enumerable string keys that are not array indices (in
// property order), without walking the elements: cost is in the named properties only.
napi_value js_array_extra_keys(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  v8::Local<v8::Value> v = to_v8(a.v[0]);
  if (!v->IsArray()) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an array");
    return nullptr;
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Array> keys;
  if (!v.As<v8::Object>()
           ->GetPropertyNames(isolate->GetCurrentContext(), v8::KeyCollectionMode::kOwnOnly,
                              static_cast<v8::PropertyFilter>(v8::ONLY_ENUMERABLE | v8::SKIP_SYMBOLS),
                              v8::IndexFilter::kSkipIndices, v8::KeyConversionMode::kConvertToString)
           .ToLocal(&keys)) {
    return nullptr;  // an exception is pending
  }
  return from_v8(keys);
}

// Hands the SharedArrayBuffer of a shared WebAssembly.Memory to V8's deserializer.
class MemoryDelegate final : public v8::ValueDeserializer::Delegate {
 public:
  explicit MemoryDelegate(v8::Local<v8::SharedArrayBuffer> sab) : sab_(sab) {}
  v8::MaybeLocal<v8::SharedArrayBuffer> GetSharedArrayBufferFromId(v8::Isolate*, uint32_t) override {
    return sab_;
  }

 private:
  v8::Local<v8::SharedArrayBuffer> sab_;
};

// wasmMemory(bytes, sab) -> the shared WebAssembly.Memory that `bytes` (V8's serialization of
// one, with its buffer as SharedArrayBuffer id 0) describes, over `sab`'s memory. Node's
// v8.Deserializer cannot do this: it has no way to supply a SharedArrayBuffer by id.
napi_value js_wasm_memory(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  v8::Local<v8::Value> bytes = to_v8(a.v[0]);
  v8::Local<v8::Value> sab = to_v8(a.v[1]);
  if (!bytes->IsUint8Array() || !sab->IsSharedArrayBuffer()) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected (Uint8Array, SharedArrayBuffer)");
    return nullptr;
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  v8::Local<v8::Context> ctx = isolate->GetCurrentContext();
  auto u8 = bytes.As<v8::Uint8Array>();
  const auto* data = static_cast<const uint8_t*>(u8->Buffer()->Data()) + u8->ByteOffset();
  MemoryDelegate delegate(sab.As<v8::SharedArrayBuffer>());
  v8::ValueDeserializer d(isolate, data, u8->ByteLength(), &delegate);
  v8::Local<v8::Value> v;
  if (!d.ReadHeader(ctx).FromMaybe(false) || !d.ReadValue(ctx).ToLocal(&v)) {
    if (!isolate->IsExecutionTerminating()) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (!pending) napi_throw_error(env, nullptr, "weft: corrupt message (WebAssembly.Memory)");
    }
    return nullptr;
  }
  return from_v8(v);
}

}  // namespace

void register_payload_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("payloadWrap", js_payload_wrap, tc),
      WEFT_FN("payloadUnwrap", js_payload_unwrap, tc),
      WEFT_FN("arrayExtraKeys", js_array_extra_keys, tc),
      WEFT_FN("strOneByte", js_str_one_byte, tc),
      WEFT_FN("wasmMemory", js_wasm_memory, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
