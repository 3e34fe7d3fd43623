// bind_many.cc — the Node-API functions behind Chan's batch operations on numeric channels:
// sendMany/sendManySync (lib/chan/many.ts) move a typed array into the channel, recvMany/
// recvManySync return what is ready as a new typed array, and recvManyInto/recvManyIntoSync
// write it into the caller's typed array (no allocation per call). One native call moves a
// whole run of ready slots (Channel::try_send_many / try_recv_many); a batch that must wait
// blocks on one value at a time (block_one, bind_chan.cc), as a single send or receive does.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/chan/channel.h"
#include "node/bind_chan.h"
#include "node/bindings.h"
#include "node/marshal.h"
#include "node/napi_util.h"
#include "node/thread_ctx.h"

namespace weft {

namespace {

// recvMany's staging buffer is kept between calls up to this many values.
constexpr size_t kKeepBatch = 64 * 1024;

// sendMany(h, typedArray, timeoutMs, block) -> number sent; status.Code = code of the stop
napi_value js_chan_send_many(napi_env env, napi_callback_info info) {
  Args<4> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  napi_typedarray_type tt;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, a.v[1], &tt, &length, &data, nullptr, nullptr) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "values must be a typed array");
    return nullptr;
  }
  bool block = false;
  napi_get_value_bool(env, a.v[3], &block);
  uint64_t deadline = block ? deadline_after(dbl(env, a.v[2], -1)) : 0;
  auto* p = static_cast<const uint8_t*>(data);
  Elem e = ch->elem();
  // 8-byte elements are their slot bits (a typed array's elements are aligned to their size):
  // they go from the array itself. Narrower ones are widened into bits, a chunk at a time.
  const bool direct = elem_size(e) == 8;
  constexpr size_t kChunk = 512;
  uint64_t bits[kChunk];
  size_t i = 0;
  int32_t code = kCodeOk;
  while (i < length) {
    size_t m = direct ? length - i : std::min(kChunk, length - i);
    const uint64_t* src = bits;
    if (direct) src = reinterpret_cast<const uint64_t*>(p) + i;
    else for (size_t j = 0; j < m; j++) bits[j] = load_elem(e, p, i + j);
    size_t off = 0;
    while (off < m) {
      Channel::Res r;
      size_t k = ch->try_send_many(src + off, m - off, &r);
      off += k;
      if (k > 0) continue;
      if (r == Channel::Res::kClosed || !block) {
        code = code_of(r);
        break;
      }
      SelectOut out;
      uint64_t one = src[off];
      code = code_of(block_one(tc, ch, true, &one, deadline, &out), out);
      if (code != kCodeOk) break;
      off++;
    }
    i += off;
    if (code != kCodeOk) break;
  }
  tc->status[abi::ix(abi::StatusSlot::Code)] = code;
  return num(env, double(i));
}

// recvMany(h, max, timeoutMs, block[, dst]) -> status.Code = code, and:
// - without dst: a new typed array of what was received (maybe empty);
// - with dst (a typed array of the channel's element type, checked by lib/chan/many.ts and
//   again here, since native code writes into it): how many values were written into dst's
//   first elements (at most its length; max is ignored).
napi_value js_chan_recv_many(napi_env env, napi_callback_info info) {
  Args<5> a(env, info);
  Channel* ch = chan_of(env, a.v[0]);
  if (!ch) return nullptr;
  ThreadCtx* tc = a.tc;
  Elem e = ch->elem();
  size_t es = elem_size(e);
  napi_valuetype dt = napi_undefined;
  napi_typeof(env, a.v[4], &dt);
  uint8_t* into = nullptr;  // dst's elements, when given
  size_t max = 0;
  if (dt != napi_undefined) {
    napi_typedarray_type tt;
    size_t length = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env, a.v[4], &tt, &length, &data, nullptr, nullptr) != napi_ok ||
        tt != elem_array_type(e)) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                            "dst must be a typed array of the channel's element type");
      return nullptr;
    }
    into = static_cast<uint8_t*>(data);
    max = length;
  } else {
    double maxd = 0;
    napi_get_value_double(env, a.v[1], &maxd);
    max = maxd >= 1 ? (maxd < 9007199254740992.0 ? size_t(maxd) : size_t(1) << 53) : 0;
  }
  bool block = false;
  napi_get_value_bool(env, a.v[3], &block);
  // 8-byte elements received into dst go straight there (a typed array's elements are aligned
  // to their size): the slot bits are the element's bytes. Everything else is staged in the
  // thread's buffer, which may be huge (the JS API allows any max): it grows geometrically for
  // what actually arrives, never for max.
  const bool direct = into != nullptr && es == 8;
  std::vector<uint64_t>& buf = tc->batch;
  uint64_t* out = direct ? reinterpret_cast<uint64_t*>(into) : nullptr;
  constexpr size_t kFirst = 256;
  auto room = [&](size_t n) {  // free places after n values, growing the staging buffer if full
    if (direct) return max - n;
    if (n == buf.size()) {
      size_t want = std::min(max, std::max(kFirst, buf.size() * 2));
      if (want > buf.size()) buf.resize(want);
    }
    out = buf.data();
    return std::min(max, buf.size()) - n;
  };
  size_t n = 0;
  int32_t code = kCodeOk;
  while (n < max) {
    Channel::Res r;
    size_t free_places = room(n);
    size_t k = ch->try_recv_many(out + n, free_places, &r);
    n += k;
    if (k > 0) continue;
    if (n > 0 || r == Channel::Res::kClosed || !block) {
      if (n == 0) code = code_of(r);
      break;
    }
    SelectOut got;
    uint64_t deadline = deadline_after(dbl(env, a.v[2], -1));
    code = code_of(block_one(tc, ch, false, nullptr, deadline, &got), got);
    if (code != kCodeOk) break;
    out[n++] = got.val;  // room(n) above made a place for it: nothing can throw after the wait
  }
  tc->status[abi::ix(abi::StatusSlot::Code)] = code;
  // A thread being torn down cannot create JS values any more (the calls would fail and
  // leave their outputs unset): return nothing.
  if (code == kCodeStopped) return nullptr;
  uint8_t* d = into;
  napi_value result = nullptr;
  if (into == nullptr) {
    napi_value ab;
    void* dst = nullptr;
    if (napi_create_arraybuffer(env, n * es, &dst, &ab) != napi_ok) {
      if (buf.size() > kKeepBatch) std::vector<uint64_t>().swap(buf);
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (!pending)
        napi_throw_range_error(env, "ERR_MEMORY_ALLOCATION_FAILED",
                               "weft: cannot allocate the values received by recvMany");
      return nullptr;
    }
    d = static_cast<uint8_t*>(dst);
    napi_create_typedarray(env, elem_array_type(e), n, ab, 0, &result);
  } else {
    result = num(env, double(n));
  }
  if (!direct) {
    if (es == 8) {
      if (n) std::memcpy(d, buf.data(), n * 8);
    } else {
      for (size_t j = 0; j < n; j++) store_elem(e, d, j, buf[j]);
    }
  }
  // A huge batch does not stay allocated for the thread's lifetime.
  if (buf.size() > kKeepBatch) std::vector<uint64_t>().swap(buf);
  return result;
}

}  // namespace

void register_batch_functions(napi_env env, napi_value exports, ThreadCtx* tc) {
  const napi_property_descriptor table[] = {
      WEFT_FN("chanSendMany", js_chan_send_many, tc),
      WEFT_FN("chanRecvMany", js_chan_recv_many, tc),
  };
  register_functions(env, exports, table);
}

}  // namespace weft
