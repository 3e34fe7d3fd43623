// bind_context.cc — the Node-API functions behind Context (core/time/context.h): creation
// with a parent, deadline and value, cancellation with a cause, and the value chain.
#include <cmath>
#include <memory>
#include <string>

#include "core/park/parker.h"
#include "core/time/context.h"
#include "core/time/timer.h"
#include "node/bindings.h"
#include "node/handle.h"
#include "node/marshal.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

namespace {

// ctxNew(parent | null, deadlineEpochMs (NaN: none), key | undefined, valueBytes, refs)
napi_value js_ctx_new(napi_env env, napi_callback_info info) {
  Args<5> a(env, info);
  Context* parent = nullptr;
  if (!unwrap_opt<Context>(env, a.v[0], Kind::Context, &parent)) return nullptr;
  double dl = dbl(env, a.v[1], NAN);
  uint64_t dl_ns = 0;
  if (!std::isnan(dl)) {
    double rel = dl - epoch_ms();
    // Beyond ~100 years the deadline is reported but never scheduled (it would overflow).
    if (rel <= 3.0e12) {
      dl_ns = now_ns() + (rel > 0 ? uint64_t(rel * 1e6) : 0);
      if (dl_ns == 0) dl_ns = 1;
    }
  }
  std::string key = str(env, a.v[2]);
  Message* value = nullptr;
  napi_valuetype t;
  napi_typeof(env, a.v[3], &t);
  if (t != napi_undefined) {
    value = message_from(env, a.v[3], a.v[4], a.tc);
    if (!value) return nullptr;
  }
  return make_handle(env, new Context(parent, dl_ns, dl, std::move(key), value));
}

napi_value js_ctx_done(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = unwrap<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  return handle_for(env, c->done());
}

napi_value js_ctx_err(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = unwrap<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  napi_value r;
  napi_create_int32(env, c->err(), &r);
  return r;
}

napi_value js_ctx_deadline(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = unwrap<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  return num(env, c->deadline_ms());
}

// ctxCancel(h, err, causeBytes | undefined, refs) -> whether this call canceled it
napi_value js_ctx_cancel(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  Context* c = unwrap<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  int32_t err = int32_t(dbl(env, a.v[1], kCtxCanceled));
  std::shared_ptr<Message> cause;
  napi_valuetype t;
  napi_typeof(env, a.v[2], &t);
  if (t != napi_undefined) {
    Message* m = message_from(env, a.v[2], a.v[3], a.tc);
    if (!m) return nullptr;
    cause.reset(m);
  }
  return boolean(env, c->cancel(err, std::move(cause)));
}

// ctxCause(h) -> byte length of the cause (bytes in scratch, refs via takeRefs()), or -1
napi_value js_ctx_cause(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = unwrap<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  std::shared_ptr<Message> m = c->cause();
  if (!m) return num(env, -1);
  return put_message(a.tc, m.get());
}

// ctxChain(h) -> [[nodeId, key], ...] for the value nodes from h up to the root
napi_value js_ctx_chain(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = unwrap<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  napi_value arr;
  napi_create_array(env, &arr);
  uint32_t i = 0;
  for (Context* p = c; p != nullptr; p = p->parent()) {
    if (p->value() == nullptr) continue;
    napi_value pair, k;
    napi_create_array_with_length(env, 2, &pair);
    napi_set_element(env, pair, 0, num(env, double(p->id())));
    napi_create_string_utf8(env, p->key().data(), p->key().size(), &k);
    napi_set_element(env, pair, 1, k);
    napi_set_element(env, arr, i++, pair);
  }
  return arr;
}

// ctxValue(h, nodeId) -> byte length of that ancestor's value (bytes in scratch, refs via
// takeRefs()), or -1 if there is none
napi_value js_ctx_value(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Context* c = unwrap<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  uint64_t id = uint64_t(dbl(env, a.v[1], 0));
  for (Context* p = c; p != nullptr; p = p->parent())
    if (p->id() == id && p->value() != nullptr) return put_message(a.tc, p->value());
  return num(env, -1);
}

}  // namespace

void register_context_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("ctxNew", js_ctx_new, tc),
      WEFT_FN("ctxDone", js_ctx_done, tc),
      WEFT_FN("ctxErr", js_ctx_err, tc),
      WEFT_FN("ctxDeadline", js_ctx_deadline, tc),
      WEFT_FN("ctxCancel", js_ctx_cancel, tc),
      WEFT_FN("ctxCause", js_ctx_cause, tc),
      WEFT_FN("ctxChain", js_ctx_chain, tc),
      WEFT_FN("ctxValue", js_ctx_value, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
