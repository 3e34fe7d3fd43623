// harness.h — a tiny test harness for the native stress tests (no Node, no test framework).
//
// Tests register themselves with TEST(name). The runner (main.cc) runs one test, or lists
// them (run.sh runs each test in its own process, so one sanitizer abort cannot hide the
// others). A CHECK failure prints its location and ends the process with status 1. A
// progress-based watchdog ends the process with status 3 when no blocking operation has
// completed for kHangSeconds: that is how a lost wake-up (a hang) is reported.
#pragma once

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/abi.h"
#include "core/chan/channel.h"
#include "core/message.h"
#include "core/park/parker.h"
#include "core/shared.h"
#include "core/chan/select.h"

namespace wt {

using weft::CaseRec;
using weft::Channel;
using weft::Elem;
using weft::Message;
using weft::Outcome;
using weft::SelectOut;
using weft::Shared;
using weft::Waiter;
using weft::WaitStatus;
using Res = weft::Channel::Res;

// Result codes of the core's waits (abi::Code), as the binding returns them.
constexpr int32_t kOk = weft::abi::ix(weft::abi::Code::Ok);
constexpr int32_t kClosed = weft::abi::ix(weft::abi::Code::Closed);
constexpr int32_t kTimeout = weft::abi::ix(weft::abi::Code::Timeout);
constexpr int32_t kStopped = weft::abi::ix(weft::abi::Code::Stopped);
constexpr int32_t kCanceled = weft::abi::ix(weft::abi::Code::Canceled);
constexpr int32_t kDeadlock = weft::abi::ix(weft::abi::Code::Deadlock);

// ---- registration ------------------------------------------------------------------------

struct TestCase {
  const char* name;
  void (*fn)();
};

inline std::vector<TestCase>& tests() {
  static std::vector<TestCase> v;
  return v;
}

struct Register {
  Register(const char* name, void (*fn)()) { tests().push_back({name, fn}); }
};

#define WT_CAT2(a, b) a##b
#define WT_CAT(a, b) WT_CAT2(a, b)
#define TEST(name)                                            \
  static void name();                                         \
  static ::wt::Register WT_CAT(wt_reg_, name)(#name, &name);  \
  static void name()

// ---- failure reporting -------------------------------------------------------------------

[[noreturn]] inline void fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "CHECK FAILED %s:%d: %s\n", file, line, what);
  std::fflush(stderr);
  std::_Exit(1);
}

// Out of line and variadic, so that each CHECKF site stays a cheap call (keeps compile times of
// the sanitizer builds down).
[[noreturn]] inline void failf(const char* file, int line, const char* what, const char* f, ...)
    __attribute__((format(printf, 4, 5)));
[[noreturn]] inline void failf(const char* file, int line, const char* what, const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  std::fprintf(stderr, "CHECK FAILED %s:%d: %s %s\n", file, line, what, buf);
  std::fflush(stderr);
  std::_Exit(1);
}

#define CHECK(cond)                                                  \
  do {                                                               \
    if (__builtin_expect(!(cond), 0))                                \
      ::wt::fail(__FILE__, __LINE__, "CHECK(" #cond ")");            \
  } while (0)
#define CHECKF(cond, ...)                                                      \
  do {                                                                         \
    if (__builtin_expect(!(cond), 0))                                          \
      ::wt::failf(__FILE__, __LINE__, "CHECK(" #cond ")", __VA_ARGS__);        \
  } while (0)

// ---- scale, progress, watchdog -----------------------------------------------------------

// STRESS_SCALE multiplies iteration counts (soak runs); default 1.
inline double scale() {
  static double s = [] {
    const char* e = std::getenv("STRESS_SCALE");
    double v = e ? std::atof(e) : 1.0;
    return v > 0 ? v : 1.0;
  }();
  return s;
}
inline size_t scaled(size_t n) {
  double v = double(n) * scale();
  return v < 1 ? 1 : size_t(v);
}

// Bumped by every completed blocking operation; the watchdog watches it.
inline std::atomic<uint64_t>& progress_counter() {
  static std::atomic<uint64_t> c{0};
  return c;
}
inline void progress() { progress_counter().fetch_add(1, std::memory_order_relaxed); }

constexpr int kHangSeconds = 30;

// ---- random numbers ----------------------------------------------------------------------

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {
    if (s == 0) s = 1;
    next();
  }
  uint64_t next() { return weft::next_random(&s); }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  bool chance(unsigned pct) { return below(100) < pct; }
};

inline uint64_t seed_for(uint64_t salt) {
  static const uint64_t base = [] {
    const char* e = std::getenv("STRESS_SEED");
    return e ? std::strtoull(e, nullptr, 0) : uint64_t(weft::now_ns());
  }();
  return base ^ (salt * 0xD1B54A32D192ED03ull);
}

inline void spin_for(uint64_t ns) {
  uint64_t end = weft::now_ns() + ns;
  while (weft::now_ns() < end) weft::cpu_relax();
}

// ---- payloads ----------------------------------------------------------------------------

// A structured payload carrying `id` in its first 8 bytes (plus some padding so allocation
// sizes vary), and optionally one owned reference to `ref`.
inline uint64_t make_msg(uint64_t id, Shared* ref = nullptr, size_t pad = 0) {
  auto* m = new Message();
  m->bytes.resize(8 + pad);
  std::memcpy(m->bytes.data(), &id, 8);
  for (size_t i = 0; i < pad; i++) m->bytes[8 + i] = uint8_t(id + i);
  if (ref != nullptr) {
    ref->retain();
    m->refs.push_back(ref);
  }
  return weft::to_bits(m);
}

inline uint64_t msg_id(uint64_t bits) {
  CHECK(bits != 0);
  Message* m = weft::to_message(bits);
  CHECK(m->bytes.size() >= 8);
  uint64_t id;
  std::memcpy(&id, m->bytes.data(), 8);
  for (size_t i = 8; i < m->bytes.size(); i++) CHECK(m->bytes[i] == uint8_t(id + i - 8));
  return id;
}

// Payload bits for `id` on a channel of element type e.
inline uint64_t payload(Elem e, uint64_t id, Shared* ref = nullptr) {
  if (e == Elem::Structured) return make_msg(id, ref, size_t(id % 23));
  return id;
}

// The id carried by a received payload; frees a structured one.
inline uint64_t take_id(Elem e, uint64_t bits) {
  if (e != Elem::Structured) return bits;
  uint64_t id = msg_id(bits);
  weft::drop_value(e, bits);
  return id;
}

// ---- blocking operations -----------------------------------------------------------------

// One heap-allocated waiter + cases, so that ASan catches any peer touching them after the
// operation returned (a record left queued would be a use-after-free, not silent stack reuse).
struct Op {
  std::unique_ptr<Waiter> w = std::make_unique<Waiter>();
  std::vector<CaseRec> recs;
  explicit Op(size_t n) : recs(n) {}
  CaseRec& operator[](size_t i) { return recs[i]; }
  int32_t n() const { return int32_t(recs.size()); }
  WaitStatus block(uint64_t* rng, SelectOut* out, bool spin = true, uint64_t deadline = 0,
                   weft::StopProbe probe = nullptr, void* arg = nullptr) {
    WaitStatus st = weft::select_block(w.get(), recs.data(), n(), spin, deadline, probe, arg,
                                       rng, out);
    if (st == WaitStatus::kDone) progress();
    check_unlinked(recs.data(), n());
    return st;
  }
  // Once an operation is over, none of its records may remain in a channel's waiter queue
  // (`queued` is guarded by the channel's lock).
  static void check_unlinked(CaseRec* recs, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
      Channel* ch = recs[i].ch;
      if (ch == nullptr) continue;
      ch->lock();
      bool queued = recs[i].queued;
      ch->unlock();
      CHECKF(!queued, "case %d is still queued after its select returned", int(i));
    }
  }
};

// Blocking single-case send: kOk (ownership moved) or kClosed (the caller still owns v).
// With a deadline it may also return kWouldBlock (timed out; the caller still owns v).
inline Res send_blocking(Channel* ch, uint64_t v, uint64_t* rng, bool spin = true,
                         uint64_t deadline = 0, bool try_first = true) {
  if (try_first) {
    Res r = ch->try_send(v);
    if (r != Res::kWouldBlock) {
      progress();
      return r;
    }
  }
  Op op(1);
  op[0].ch = ch;
  op[0].is_send = true;
  op[0].val = v;
  SelectOut out;
  WaitStatus st = op.block(rng, &out, spin, deadline);
  if (st == WaitStatus::kTimeout) {
    CHECK(op[0].val == v);  // not taken
    return Res::kWouldBlock;
  }
  CHECKF(st == WaitStatus::kDone, "status %d", int(st));
  CHECK(out.index == 0);
  if (out.res == Res::kOk) {
    CHECK(op[0].val == 0);  // moved
  } else {
    CHECK(out.res == Res::kClosed);
    CHECK(op[0].val == v);  // still ours
  }
  return out.res;
}

// Blocking single-case receive: kOk (*v owned by the caller), kClosed, or kWouldBlock on
// timeout.
inline Res recv_blocking(Channel* ch, uint64_t* v, uint64_t* rng, bool spin = true,
                         uint64_t deadline = 0, bool try_first = true) {
  if (try_first) {
    Res r = ch->try_recv(v);
    if (r != Res::kWouldBlock) {
      progress();
      return r;
    }
  }
  Op op(1);
  op[0].ch = ch;
  op[0].is_send = false;
  SelectOut out;
  WaitStatus st = op.block(rng, &out, spin, deadline);
  if (st == WaitStatus::kTimeout) return Res::kWouldBlock;
  CHECKF(st == WaitStatus::kDone, "status %d", int(st));
  CHECK(out.index == 0);
  if (out.res == Res::kOk) *v = out.val;
  return out.res;
}

// An owner thread's event loop for async ops: Inbox::push calls fn, which wakes wait().
struct Wake {
  std::mutex mu;
  std::condition_variable cv;
  bool flag = false;  // guarded by mu
  static void fn(void* arg) {  // called by Inbox::push (after it released the inbox lock)
    auto* w = static_cast<Wake*>(arg);
    {
      std::lock_guard<std::mutex> g(w->mu);
      w->flag = true;
    }
    w->cv.notify_one();
  }
  void wait(uint64_t ns) {
    std::unique_lock<std::mutex> g(mu);
    cv.wait_for(g, std::chrono::nanoseconds(ns), [&] { return flag; });
    flag = false;
  }
};

// ---- exactly-once bookkeeping ------------------------------------------------------------

struct Ledger {
  // The counters live in calloc'ed memory: zero pages the kernel maps lazily, so a ledger of
  // tens of millions of ids costs nothing until used. Constructing and storing each element
  // instead took over 30 s under TSan on a loaded 2-core machine (every store instrumented),
  // which the watchdog reported as a hang before the test had started. std::atomic<uint32_t>
  // is lock-free with the same size and representation as uint32_t, and all zero bits is 0.
  struct Free {
    void operator()(std::atomic<uint32_t>* p) const { std::free(p); }
  };
  using Counters = std::unique_ptr<std::atomic<uint32_t>[], Free>;
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) &&
                std::atomic<uint32_t>::is_always_lock_free);
  static Counters zeroed(size_t count) {
    void* p = std::calloc(count, sizeof(std::atomic<uint32_t>));
    CHECKF(p != nullptr, "ledger of %zu ids: out of memory", count);
    return Counters(static_cast<std::atomic<uint32_t>*>(p));
  }
  Counters recv;
  Counters sent;
  size_t n;
  explicit Ledger(size_t count) : recv(zeroed(count)), sent(zeroed(count)), n(count) {}
  void got(uint64_t id) {
    CHECKF(id < n, "received an id out of range: %" PRIu64, id);
    uint32_t before = recv[id].fetch_add(1, std::memory_order_relaxed);
    CHECKF(before == 0, "id %" PRIu64 " received twice", id);
  }
  void put(uint64_t id) {
    CHECKF(id < n, "sent an id out of range: %" PRIu64, id);
    uint32_t before = sent[id].fetch_add(1, std::memory_order_relaxed);
    CHECKF(before == 0, "id %" PRIu64 " sent twice", id);
  }
  // Every id sent is received exactly once and nothing else was received.
  void verify_matches_sent() const {
    for (size_t i = 0; i < n; i++) {
      uint32_t s = sent[i].load(), r = recv[i].load();
      CHECKF(s == r, "id %zu sent %u times, received %u times", i, s, r);
    }
  }
  // Every id in [0, n) received exactly once.
  void verify_all_received() const {
    for (size_t i = 0; i < n; i++) {
      uint32_t r = recv[i].load();
      CHECKF(r == 1, "id %zu received %u times", i, r);
    }
  }
  size_t received() const {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += recv[i].load();
    return c;
  }
};

// Starts n threads, thread i running fn(i, rng) with its own Rng seeded from salt + i (so a
// failing STRESS_SEED replays every thread's choices), and adds them to ts (join_all joins).
template <class F>
void spawn(std::vector<std::thread>& ts, int n, uint64_t salt, F fn) {
  for (int i = 0; i < n; i++) {
    ts.emplace_back([fn, i, salt]() mutable {
      Rng rng(seed_for(salt + uint64_t(i)));
      fn(i, rng);
    });
  }
}

// Joins threads; the watchdog covers hangs.
inline void join_all(std::vector<std::thread>& ts) {
  for (auto& t : ts) t.join();
  ts.clear();
}

}  // namespace wt
