// blocked.cc — see blocked.h.
#include "core/blocked.h"

#include <cstdint>
#include <mutex>

#include "core/shared.h"

namespace weft {

namespace {

// Entries are registered and removed by their own thread, read by any thread (dump(), the
// lock-cycle check): every access to the list and to an entry's `pos` is under mu. An entry's
// other fields are written before block_begin() and not changed while it is registered, so
// the mutex publishes them to readers. An entry's `obj` is alive while it is registered
// (the blocked call holds it), so readers may call it under mu.
struct BlockedList {
  std::mutex mu;
  std::vector<Blocked*> list;  // guarded by mu
};

BlockedList& blocked_list() {
  // Leaked on purpose, like the registry: worker threads may still unregister while the
  // process exits.
  static BlockedList* l = new BlockedList();
  return *l;
}

}  // namespace

void block_begin(Blocked* b) {
  BlockedList& r = blocked_list();
  std::lock_guard<std::mutex> g(r.mu);
  b->pos = r.list.size();
  try {
    r.list.push_back(b);
  } catch (...) {
    // Out of memory: this wait is just missing from dump(). Never throws: callers register
    // from inside park() and mid-way through queueing async ops.
    b->pos = SIZE_MAX;
  }
}

void block_end(Blocked* b) {
  BlockedList& r = blocked_list();
  std::lock_guard<std::mutex> g(r.mu);
  size_t i = b->pos;
  if (i >= r.list.size() || r.list[i] != b) return;
  r.list[i] = r.list.back();
  r.list[i]->pos = i;
  r.list.pop_back();
}

std::vector<BlockedInfo> blocked_snapshot() {
  BlockedList& r = blocked_list();
  std::lock_guard<std::mutex> g(r.mu);
  std::vector<BlockedInfo> out;
  out.reserve(r.list.size());
  for (Blocked* b : r.list) {
    std::string obj = kind_name(b->obj->kind());
    if (!b->obj->name().empty()) obj += " " + b->obj->name();
    out.push_back(BlockedInfo{b->thread, b->op, obj, b->since_ns, b->obj->holder_thread(), b->sync});
  }
  return out;
}

std::vector<uint64_t> blocked_sync_threads() {
  BlockedList& r = blocked_list();
  std::vector<uint64_t> out;
  std::lock_guard<std::mutex> g(r.mu);
  for (Blocked* b : r.list)
    if (b->sync) out.push_back(b->thread);  // may throw (no memory): the caller reports it
  return out;
}

std::string find_lock_cycle(uint64_t thread, Shared* m, int32_t (*owner_of)(Shared*)) {
  BlockedList& r = blocked_list();
  std::lock_guard<std::mutex> g(r.mu);
  auto describe = [](Shared* o) {
    return std::string(kind_name(o->kind())) + (o->name().empty() ? "" : " '" + o->name() + "'");
  };
  std::string desc = "thread " + std::to_string(thread);
  Shared* cur = m;
  for (int steps = 0; steps < 64 && cur != nullptr; steps++) {
    // A relaxed read of the lock's holder (Mutex: its Owner word; RWMutex: writer_thread_): a
    // racy snapshot. A stale answer is corrected by block_on re-checking every park slice,
    // and a cycle, once formed, does not go away by itself (every thread in it is blocked).
    uint64_t owner = uint64_t(owner_of(cur));
    if (owner == 0) return "";
    desc += (steps == 0 ? " waits for " : ", which waits for ") + describe(cur) +
            " held by thread " + std::to_string(owner);
    if (owner == thread) return desc;
    // What is the owner itself blocked on (a lock)?
    Shared* next = nullptr;
    for (Blocked* b : r.list) {
      // Only a thread blocked in a *Sync call is stuck; a pending promise is not.
      if (b->thread == owner && b->sync &&
          (b->obj->kind() == Kind::Mutex || b->obj->kind() == Kind::RWMutex)) {
        next = b->obj;
        break;
      }
    }
    cur = next;
  }
  return "";
}

}  // namespace weft
