// shared.cc — see shared.h.
#include "core/shared.h"

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace weft {

namespace {

// The one cross-thread registry of ids. Guarded by `mu`; the map holds objects that have been
// shared at least once and are still alive. (The other process-wide state: the blocked list,
// blocked.cc, and the timer thread's service, timer.cc.)
struct Registry {
  std::mutex mu;
  std::unordered_map<uint64_t, Shared*> map;
  std::mutex watch_mu;
  std::vector<std::pair<void*, void (*)(void*)>> watchers;  // guarded by watch_mu
  std::atomic<int64_t> nwatchers{0};  // == watchers.size(), readable without the lock
};

Registry& registry() {
  // Leaked on purpose: worker threads may still release objects while the process exits.
  static Registry* r = new Registry();
  return *r;
}

std::atomic<uint64_t> next_id{1};
// The watcher key this OS thread registered (its own releases never need to wake it: it is
// running, and re-checks before its loop sleeps again).
thread_local void* t_self_watcher = nullptr;
std::atomic<int64_t> live{0};

}  // namespace

Shared::Shared(Kind kind) : id_(next_id.fetch_add(1, std::memory_order_relaxed)), kind_(kind) {
  live.fetch_add(1, std::memory_order_relaxed);
}

Shared::~Shared() { live.fetch_sub(1, std::memory_order_relaxed); }

const std::string& Shared::no_name() {
  static const std::string empty;
  return empty;
}

void Shared::release() {
  // acq_rel: the thread that frees the object sees every write made by threads that dropped
  // their references before it; and a watcher's level, set by a CAS on this same word after
  // it registered (watcher_add), is read by this very decrement (see watch_below).
  int64_t before = refs_.fetch_sub(1, std::memory_order_acq_rel);
  if ((before & kCountMask) != 1) {
    // Nothing of *this may be read from here on (another thread may free it): the level comes
    // from `before`.
    int64_t level = before >> kWatchShift;
    if (level != 0 && (before & kCountMask) - 1 <= level - 1) notify_watchers();
    return;
  }
  // Last reference. attach() only revives an object under the registry lock and only while
  // refs_ > 0 (CAS loop), so once we observe zero here nobody can resurrect it; we still take
  // the lock to unlink it from the map before the memory goes.
  if (in_map_) {
    Registry& r = registry();
    std::lock_guard<std::mutex> g(r.mu);
    r.map.erase(id_);
  }
  delete this;
}

uint64_t Shared::share() {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  if (!in_map_) {
    r.map.emplace(id_, this);  // first: if it throws (no memory), nothing has changed
    in_map_ = true;
  }
  // The caller owns a reference, so refs_ > 0 and this increment cannot race a free.
  refs_.fetch_add(1, std::memory_order_relaxed);
  pending_shares_++;
  return id_;
}

Shared* Shared::attach(uint64_t id) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.mu);
  auto it = r.map.find(id);
  if (it == r.map.end()) return nullptr;
  Shared* s = it->second;
  if (s->pending_shares_ > 0) {
    // Adopt the reference the share() token parked for us.
    s->pending_shares_--;
    return s;
  }
  // Revive only if still alive: a concurrent release() may have dropped the count to zero
  // and be waiting for this lock to unlink and free the object.
  int64_t n = s->refs_.load(std::memory_order_relaxed);
  while ((n & kCountMask) > 0) {
    if (s->refs_.compare_exchange_weak(n, n + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed))
      return s;
  }
  return nullptr;
}

int64_t Shared::watch_below(int64_t n) {
  // Only raised: several watchers may watch one object; a stale level only costs a spurious
  // wake-up (the watcher re-checks and finds it still held). A level too large for its bits
  // becomes the largest one, which wakes on more releases than needed, never on fewer.
  int64_t want = n + 1 > kWatchMax || n < 0 ? kWatchMax : n + 1;
  int64_t cur = refs_.load(std::memory_order_relaxed);
  for (;;) {
    if ((cur >> kWatchShift) >= want) return cur & kCountMask;
    int64_t next = (cur & kCountMask) | (want << kWatchShift);
    // acq_rel: orders the caller's watcher_add before this (release() reads the watcher list
    // after its decrement reads this value) and returns the count current at this instant.
    if (refs_.compare_exchange_weak(cur, next, std::memory_order_acq_rel,
                                    std::memory_order_relaxed))
      return cur & kCountMask;
  }
}

void Shared::watcher_add(void* key, void (*wake)(void*)) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.watch_mu);
  for (auto& w : r.watchers)
    if (w.first == key) return;
  r.watchers.emplace_back(key, wake);
  t_self_watcher = key;
  r.nwatchers.store(int64_t(r.watchers.size()), std::memory_order_relaxed);
}

void Shared::watcher_remove(void* key) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.watch_mu);
  for (size_t i = 0; i < r.watchers.size(); i++) {
    if (r.watchers[i].first != key) continue;
    r.watchers[i] = r.watchers.back();
    r.watchers.pop_back();
    break;
  }
  r.nwatchers.store(int64_t(r.watchers.size()), std::memory_order_relaxed);
}

void Shared::notify_watchers() {
  Registry& r = registry();
  // Acquire, pairing with the watcher's watch_below CAS (acq_rel) that our decrement read:
  // its earlier watcher_add store of nwatchers (under watch_mu) is visible here. (A level
  // left by a watcher that has since gone only leads here to find no one to wake.)
  if (r.nwatchers.load(std::memory_order_acquire) == 0) return;
  // Under watch_mu: a watcher removes itself (under the lock) before its wake target goes.
  std::lock_guard<std::mutex> g(r.watch_mu);
  for (auto& w : r.watchers)
    if (w.first != t_self_watcher) w.second(w.first);
}

int64_t Shared::live_count() { return live.load(std::memory_order_relaxed); }

bool Shared::try_retain() {
  // Never from zero (the object may be going away). acquire on success: pairs with the
  // acq_rel decrement in release(), as in attach() above.
  int64_t n = refs_.load(std::memory_order_relaxed);
  while ((n & kCountMask) > 0) {
    if (refs_.compare_exchange_weak(n, n + 1, std::memory_order_acquire,
                                    std::memory_order_relaxed))
      return true;
  }
  return false;
}

}  // namespace weft

namespace weft {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Channel: return "chan";
    case Kind::Timer: return "timer";
    case Kind::Context: return "context";
    case Kind::Mutex: return "mutex";
    case Kind::RWMutex: return "rwmutex";
    case Kind::WaitGroup: return "waitgroup";
    case Kind::Semaphore: return "semaphore";
    case Kind::Cond: return "cond";
    case Kind::Once: return "once";
    case Kind::Atomic: return "atomic";
    case Kind::Value: return "atomicvalue";
    case Kind::Progress: return "progressmeter";
    case Kind::AtomicBool: return "atomicbool";
    case Kind::Ticker: return "ticker";
    case Kind::Payload: return "payload";
    case Kind::RateLimiter: return "ratelimiter";
    case Kind::Heartbeat: return "heartbeat";
  }
  return "object";
}

}  // namespace weft
