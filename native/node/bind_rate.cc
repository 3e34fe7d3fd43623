// bind_rate.cc — the Node-API functions behind RateLimiter (core/sync/rate.h).
//
// Times cross as doubles: `now` arguments are the injected test clock in ms (undefined: the
// limiter reads its own clock under its lock); reservation times are ns on the limiter's
// timeline, exact as doubles for ~104 days of a limiter's life, so cancel() gets back
// exactly the timeToAct it was given (x/time/rate compares it with the latest event).
#include <cmath>

#include "core/sync/rate.h"
#include "node/bind_wait.h"
#include "node/bindings.h"
#include "node/handle.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

namespace {

RateLimiter* limiter(napi_env env, napi_value v) {
  return unwrap<RateLimiter>(env, v, Kind::RateLimiter);
}

// An injected time in ms, or RateLimiter::kNow when v is undefined.
int64_t time_arg(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return RateLimiter::kNow;
  double ms = dbl(env, v);
  if (!(std::fabs(ms) < 9.0e12)) return 0;  // NaN or beyond ~285 years: lib/ never passes it
  return std::llround(ms * 1e6);
}

// A duration in ms (-1 or Infinity: no limit) as ns.
int64_t span_arg(napi_env env, napi_value v) {
  double ms = dbl(env, v, -1);
  if (!(ms >= 0) || ms >= 9.0e12) return RateLimiter::kNever;
  return int64_t(ms * 1e6);
}

// rateNew(ratePerSec, burst, name) -> handle
napi_value js_rate_new(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  return named(env, new RateLimiter(dbl(env, a.v[0]), int64_t(dbl(env, a.v[1]))), a.v[2]);
}

// rateAllow(h, n, now?) -> RateRes
napi_value js_rate_allow(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  RateLimiter* r = limiter(env, a.v[0]);
  if (!r) return nullptr;
  return i32(env, abi::ix(r->allow(time_arg(env, a.v[2]), int64_t(dbl(env, a.v[1], 1)))));
}

// rateReserve(h, n, maxWaitMs, now?) -> [RateRes, tokens, timeToActNs, atNs, limit]
napi_value js_rate_reserve(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  RateLimiter* r = limiter(env, a.v[0]);
  if (!r) return nullptr;
  RateLimiter::Reservation res;
  RateLimiter::Res code =
      r->reserve(time_arg(env, a.v[3]), int64_t(dbl(env, a.v[1], 1)), span_arg(env, a.v[2]), &res);
  napi_value arr;
  napi_create_array_with_length(env, 5, &arr);
  napi_set_element(env, arr, 0, i32(env, abi::ix(code)));
  napi_set_element(env, arr, 1, num(env, double(res.tokens)));
  napi_set_element(env, arr, 2, num(env, double(res.time_to_act)));
  napi_set_element(env, arr, 3, num(env, double(res.now)));
  napi_set_element(env, arr, 4, num(env, res.limit));
  return arr;
}

// rateCancel(h, tokens, timeToActNs, limit, now?)
napi_value js_rate_cancel(napi_env env, napi_callback_info info) {
  Args<5> a(env, info);
  RateLimiter* r = limiter(env, a.v[0]);
  if (!r) return nullptr;
  RateLimiter::Reservation res;
  res.tokens = int64_t(dbl(env, a.v[1]));
  res.time_to_act = int64_t(dbl(env, a.v[2]));
  res.limit = dbl(env, a.v[3]);
  r->cancel(time_arg(env, a.v[4]), res);
  return nullptr;
}

// rateTokens(h, now?) -> tokens
napi_value js_rate_tokens(napi_env env, napi_callback_info info) {
  Args<2> a(env, info);
  RateLimiter* r = limiter(env, a.v[0]);
  if (!r) return nullptr;
  return num(env, r->tokens(time_arg(env, a.v[1])));
}

// rateInfo(h) -> [ratePerSec, burst]
napi_value js_rate_info(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  RateLimiter* r = limiter(env, a.v[0]);
  if (!r) return nullptr;
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, r->rate()));
  napi_set_element(env, arr, 1, num(env, double(r->burst())));
  return arr;
}

// rateSet(h, isBurst, value, now?)
napi_value js_rate_set(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  RateLimiter* r = limiter(env, a.v[0]);
  if (!r) return nullptr;
  bool is_burst = false;
  napi_get_value_bool(env, a.v[1], &is_burst);
  double v = dbl(env, a.v[2]);
  int64_t now = time_arg(env, a.v[3]);
  if (is_burst) r->set_burst(now, int64_t(v)); else r->set_rate(now, v);
  return nullptr;
}

// rateSleepSync(h, delayMs, done?) -> code: blocks until delayMs from now (Ok), the context's
// done channel closes (Canceled) or the thread is torn down (Stopped).
napi_value js_rate_sleep_sync(napi_env env, napi_callback_info info) {
  Args<3> a(env, info);
  RateLimiter* r = limiter(env, a.v[0]);
  if (!r) return nullptr;
  uint64_t deadline = deadline_after(dbl(env, a.v[1], 0));
  if (deadline == 0) deadline = now_ns() + uint64_t(3.0e18);  // beyond ~95 years: "never"
  return num(env, r->sleep(block_thread(a.tc), deadline, done_arg(env, a.v[2])));
}

}  // namespace

void register_rate_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("rateNew", js_rate_new, tc),
      WEFT_FN("rateAllow", js_rate_allow, tc),
      WEFT_FN("rateReserve", js_rate_reserve, tc),
      WEFT_FN("rateCancel", js_rate_cancel, tc),
      WEFT_FN("rateTokens", js_rate_tokens, tc),
      WEFT_FN("rateInfo", js_rate_info, tc),
      WEFT_FN("rateSet", js_rate_set, tc),
      WEFT_FN("rateSleepSync", js_rate_sleep_sync, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
