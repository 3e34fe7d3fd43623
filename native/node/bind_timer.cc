// bind_timer.cc — the Node-API functions behind Timer and Ticker (core/time/timer.h).
#include <cmath>

#include "core/time/timer.h"
#include "node/bindings.h"
#include "node/handle.h"
#include "node/napi_util.h"

namespace weft {

namespace {

// ms <= 0: at once; Infinity: never (Timer::kNever); beyond ~95 years: capped (no overflow).
uint64_t ms_to_ns(double ms) {
  if (ms <= 0) return 0;
  if (ms == INFINITY) return Timer::kNever;
  return ms > 3.0e12 ? uint64_t(3.0e18) : uint64_t(ms * 1e6);
}

// timerNew(isTicker)
napi_value js_timer_new(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  bool ticker = false;
  napi_get_value_bool(env, a.v[0], &ticker);
  return make_handle(env, new Timer(ticker));
}

napi_value js_timer_chan(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Timer* t = unwrap<Timer>(env, a.v[0], Kind::Timer, Kind::Ticker);
  if (!t) return nullptr;
  return handle_for(env, t->channel());
}

// timerReset(h, delayMs, periodMs) -> was active
napi_value js_timer_reset(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  Timer* t = unwrap<Timer>(env, a.v[0], Kind::Timer, Kind::Ticker);
  if (!t) return nullptr;
  double period_ms = dbl(env, a.v[2], 0);
  uint64_t period = ms_to_ns(period_ms);
  if (period_ms > 0 && period == 0) period = 1;  // a sub-ns ticker period is still a ticker
  return boolean(env, t->reset(ms_to_ns(dbl(env, a.v[1], 0)), period));
}

// timerState(h) -> [armed, periodMs (0: a Timer), a value waiting in c]
napi_value js_timer_state(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  Timer* t = unwrap<Timer>(env, a.v[0], Kind::Timer, Kind::Ticker);
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
  Timer* t = unwrap<Timer>(env, a.v[0], Kind::Timer, Kind::Ticker);
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

}  // namespace

void register_timer_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("timerNew", js_timer_new, tc),
      WEFT_FN("timerChan", js_timer_chan, tc),
      WEFT_FN("timerReset", js_timer_reset, tc),
      WEFT_FN("timerState", js_timer_state, tc),
      WEFT_FN("timerStop", js_timer_stop, tc),
      WEFT_FN("timerStats", js_timer_stats, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
