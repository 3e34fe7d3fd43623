// registry.cc — see registry.h.
#include "registry.h"

#include "timer.h"

#include <mutex>
#include <unordered_map>

namespace weft {

namespace {

// The one cross-thread registry (the only static mutable state of the addon). Guarded by
// `mu`; the map holds objects that have been shared at least once and are still alive.
struct Registry {
  std::mutex mu;
  std::unordered_map<uint64_t, Shared*> map;
  TimerService timers;  // the timer thread's heap (see timer.h)
  std::mutex blocked_mu;
  std::vector<Shared::Blocked*> blocked;  // guarded by blocked_mu
};

Registry& registry() {
  // Leaked on purpose: worker threads may still release objects while the process exits.
  static Registry* r = new Registry();
  return *r;
}

std::atomic<uint64_t> next_id{1};
std::atomic<int64_t> live{0};

}  // namespace

Shared::Shared(Kind kind) : id_(next_id.fetch_add(1, std::memory_order_relaxed)), kind_(kind) {
  live.fetch_add(1, std::memory_order_relaxed);
}

Shared::~Shared() { live.fetch_sub(1, std::memory_order_relaxed); }

void Shared::release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
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
  // The caller owns a reference, so refs_ > 0 and this increment cannot race a free.
  refs_.fetch_add(1, std::memory_order_relaxed);
  pending_shares_++;
  if (!in_map_) {
    r.map.emplace(id_, this);
    in_map_ = true;
  }
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
  while (n > 0) {
    if (s->refs_.compare_exchange_weak(n, n + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed))
      return s;
  }
  return nullptr;
}

int64_t Shared::live_count() { return live.load(std::memory_order_relaxed); }

TimerService& Shared::timers() { return registry().timers; }

bool Shared::try_retain() {
  int64_t n = refs_.load(std::memory_order_relaxed);
  while (n > 0) {
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
  }
  return "object";
}

void Shared::block_begin(Blocked* b) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.blocked_mu);
  b->pos = r.blocked.size();
  r.blocked.push_back(b);
}

void Shared::block_end(Blocked* b) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.blocked_mu);
  size_t i = b->pos;
  if (i >= r.blocked.size() || r.blocked[i] != b) return;
  r.blocked[i] = r.blocked.back();
  r.blocked[i]->pos = i;
  r.blocked.pop_back();
}

std::vector<Shared::BlockedInfo> Shared::blocked() {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.blocked_mu);
  std::vector<BlockedInfo> out;
  out.reserve(r.blocked.size());
  for (Blocked* b : r.blocked) {
    std::string obj = kind_name(b->obj->kind());
    if (!b->obj->name().empty()) obj += " " + b->obj->name();
    out.push_back(BlockedInfo{b->thread, b->op, obj, b->since_ns});
  }
  return out;
}

std::string Shared::find_cycle(uint64_t thread, Shared* m, int32_t (*owner_of)(Shared*)) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.blocked_mu);
  auto describe = [](Shared* o) {
    return std::string(kind_name(o->kind())) + (o->name().empty() ? "" : " '" + o->name() + "'");
  };
  std::string desc = "thread " + std::to_string(thread);
  Shared* cur = m;
  for (int steps = 0; steps < 64 && cur != nullptr; steps++) {
    uint64_t owner = uint64_t(owner_of(cur));
    if (owner == 0) return "";
    desc += (steps == 0 ? " waits for " : ", which waits for ") + describe(cur) +
            " held by thread " + std::to_string(owner);
    if (owner == thread) return desc;
    // What is the owner itself blocked on (a lock)?
    Shared* next = nullptr;
    for (Blocked* b : r.blocked) {
      // Only a thread blocked in a *Sync call is stuck; a pending promise is not.
      if (b->thread == owner && b->sync && b->obj->kind() == Kind::Mutex) {
        next = b->obj;
        break;
      }
    }
    cur = next;
  }
  return "";
}

}  // namespace weft
