// bind_time.cc — see js_time.h.
#include "node/bind_time.h"

#include <cmath>
#include <string>

#include "core/time/context.h"
#include "node/handle.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"
#include "core/time/timer.h"

namespace weft {

namespace {

// ms <= 0: at once; Infinity: never (Timer::kNever); beyond ~95 years: capped (no overflow).
uint64_t ms_to_ns(double ms) {
  if (ms <= 0) return 0;
  if (ms == INFINITY) return Timer::kNever;
  return ms > 3.0e12 ? uint64_t(3.0e18) : uint64_t(ms * 1e6);
}

// A new handle to a channel the caller does not own a reference to (retained here).
napi_value chan_handle(napi_env env, Channel* ch) {
  ch->retain();
  return make_handle(env, ch);
}

// ---- timers ------------------------------------------------------------------------------

// timerNew(isTicker)
napi_value js_timer_new(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  bool ticker = false;
  napi_get_value_bool(env, a.v[0], &ticker);
  return make_handle(env, new Timer(ticker));
}

napi_value js_timer_chan(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Timer* t = obj<Timer>(env, a.v[0], Kind::Timer, Kind::Ticker);
  if (!t) return nullptr;
  return chan_handle(env, t->channel());
}

// timerReset(h, delayMs, periodMs) -> was active
napi_value js_timer_reset(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  Timer* t = obj<Timer>(env, a.v[0], Kind::Timer, Kind::Ticker);
  if (!t) return nullptr;
  double period_ms = dbl(env, a.v[2], 0);
  uint64_t period = ms_to_ns(period_ms);
  if (period_ms > 0 && period == 0) period = 1;  // a sub-ns ticker period is still a ticker
  return boolean(env, t->reset(ms_to_ns(dbl(env, a.v[1], 0)), period));
}

// timerState(h) -> [armed, periodMs (0: a Timer), a value waiting in c]
napi_value js_timer_state(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Timer* t = obj<Timer>(env, a.v[0], Kind::Timer, Kind::Ticker);
  if (!t) return nullptr;
  Timer::State s = t->state();
  napi_value arr;
  napi_create_array_with_length(env, 3, &arr);
  napi_set_element(env, arr, 0, boolean(env, s.armed));
  napi_set_element(env, arr, 1,
                   num(env, s.period_ns == Timer::kNever ? INFINITY : double(s.period_ns) / 1e6));
  napi_set_element(env, arr, 2, boolean(env, s.ready));
  return arr;
}

napi_value js_timer_stop(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Timer* t = obj<Timer>(env, a.v[0], Kind::Timer, Kind::Ticker);
  if (!t) return nullptr;
  return boolean(env, t->stop());
}

// timerStats() -> [heap entries, timer thread running]
napi_value js_timer_stats(napi_env env, napi_callback_info) {
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, double(timer_service().pending())));
  napi_set_element(env, arr, 1, boolean(env, timer_service().thread_running()));
  return arr;
}

// ---- contexts ----------------------------------------------------------------------------

// ctxNew(parent | null, deadlineEpochMs (NaN: none), key | undefined, valueBytes, refs)
napi_value js_ctx_new(napi_env env, napi_callback_info info) {
  Args<5> a(env, info);
  napi_valuetype t;
  napi_typeof(env, a.v[0], &t);
  Context* parent = nullptr;
  if (t != napi_null && t != napi_undefined) {
    parent = obj<Context>(env, a.v[0], Kind::Context);
    if (!parent) return nullptr;
  }
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
  std::string key;
  napi_typeof(env, a.v[2], &t);
  if (t == napi_string) {
    size_t len = 0;
    napi_get_value_string_utf8(env, a.v[2], nullptr, 0, &len);
    key.resize(len);
    napi_get_value_string_utf8(env, a.v[2], key.data(), len + 1, &len);
  }
  Message* value = nullptr;
  napi_typeof(env, a.v[3], &t);
  if (t != napi_undefined) {
    value = message_from(env, a.v[3], a.v[4]);
    if (!value) return nullptr;
  }
  return make_handle(env, new Context(parent, dl_ns, dl, std::move(key), value));
}

napi_value js_ctx_done(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = obj<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  return chan_handle(env, c->done());
}

napi_value js_ctx_err(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = obj<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  napi_value r;
  napi_create_int32(env, c->err(), &r);
  return r;
}

napi_value js_ctx_deadline(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = obj<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  return num(env, c->deadline_ms());
}

// ctxCancel(h, err, causeBytes | undefined, refs) -> whether this call canceled it
napi_value js_ctx_cancel(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  Context* c = obj<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  int32_t err = int32_t(dbl(env, a.v[1], kCtxCanceled));
  std::shared_ptr<Message> cause;
  napi_valuetype t;
  napi_typeof(env, a.v[2], &t);
  if (t != napi_undefined) {
    Message* m = message_from(env, a.v[2], a.v[3]);
    if (!m) return nullptr;
    cause.reset(m);
  }
  return boolean(env, c->cancel(err, std::move(cause)));
}

// ctxCause(h) -> [Uint8Array, handles[]] | null
napi_value js_ctx_cause(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = obj<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  std::shared_ptr<Message> m = c->cause();
  if (!m) {
    napi_value n;
    napi_get_null(env, &n);
    return n;
  }
  return message_to_js(env, m.get());
}

// ctxChain(h) -> [[nodeId, key], ...] for the value nodes from h up to the root
napi_value js_ctx_chain(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Context* c = obj<Context>(env, a.v[0], Kind::Context);
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

// ctxValue(h, nodeId) -> [Uint8Array, handles[]] of that ancestor's value
napi_value js_ctx_value(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  Context* c = obj<Context>(env, a.v[0], Kind::Context);
  if (!c) return nullptr;
  uint64_t id = uint64_t(dbl(env, a.v[1], 0));
  for (Context* p = c; p != nullptr; p = p->parent())
    if (p->id() == id && p->value() != nullptr) return message_to_js(env, p->value());
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

}  // namespace

void register_time_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  napi_property_descriptor props[] = {
      WEFT_FN("timerNew", js_timer_new, tc),
      WEFT_FN("timerChan", js_timer_chan, tc),
      WEFT_FN("timerReset", js_timer_reset, tc),
      WEFT_FN("timerState", js_timer_state, tc),
      WEFT_FN("timerStop", js_timer_stop, tc),
      WEFT_FN("timerStats", js_timer_stats, tc),
      WEFT_FN("ctxNew", js_ctx_new, tc),
      WEFT_FN("ctxDone", js_ctx_done, tc),
      WEFT_FN("ctxErr", js_ctx_err, tc),
      WEFT_FN("ctxDeadline", js_ctx_deadline, tc),
      WEFT_FN("ctxCancel", js_ctx_cancel, tc),
      WEFT_FN("ctxCause", js_ctx_cause, tc),
      WEFT_FN("ctxChain", js_ctx_chain, tc),
      WEFT_FN("ctxValue", js_ctx_value, tc),
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace weft
