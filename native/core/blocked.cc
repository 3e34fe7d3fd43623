// blocked.cc — see blocked.h.
#include "core/blocked.h"

#include <cstdint>
#include <mutex>

#include "core/shared.h"

namespace weft {

namespace {

// The entries of one thread. They are registered and removed by that thread (block_begin /
// block_end run on the thread that waits), and read by any thread (dump(), the lock-cycle
// check, the pool's sysmon): every access to `list` and to an entry's `pos` is under the
// list's own `mu`. An entry's other fields are written before block_begin() and not changed
// while it is registered, so that mutex publishes them to readers (its unlock in block_begin
// pairs with a reader's lock). An entry's `obj` is alive while it is registered (the blocked
// call holds it), so readers may call it under mu.
//
// One list per thread, not one for the process: every park registers and unregisters, and
// two threads handing values back and forth (a ping-pong) would otherwise take one process-wide
// lock four times per round trip, on the critical path of each hand-off, its cache lines
// moving between the cores each time (measured in a C++ ping-pong over two unbuffered
// channels: 1.3-1.7 us per round trip without the registration, 2.6-3.2 us with a global
// list). A thread's own lock is uncontended unless a reader is walking the lists.
struct ThreadList {
  std::mutex mu;
  std::vector<Blocked*> list;  // guarded by mu
  bool in_use = false;         // guarded by Lists::mu: a running thread owns this list
};

// Every thread's list ever made. Leaked on purpose, like the id registry: worker threads may
// still unregister while the process exits, and a list may be recycled but is never freed (an
// entry's `home` points into it). Lock order: Lists::mu before a ThreadList::mu.
struct Lists {
  std::mutex mu;
  std::vector<ThreadList*> all;  // guarded by mu
};

Lists& lists() {
  static Lists* l = new Lists();
  return *l;
}

// This thread's list: found on its first block_begin, handed back for reuse at thread exit.
struct Mine {
  ThreadList* l = nullptr;
  ~Mine() {
    if (l == nullptr) return;
    std::lock_guard<std::mutex> g(lists().mu);
    l->in_use = false;  // `l` stays set: a late block_begin on this thread still works
  }
};
thread_local Mine t_mine;

ThreadList* my_list() noexcept {
  if (t_mine.l != nullptr) return t_mine.l;
  Lists& r = lists();
  std::lock_guard<std::mutex> g(r.mu);
  // Reuse the list of a thread that exited, if nothing of it is still registered.
  for (ThreadList* l : r.all) {
    if (l->in_use) continue;
    std::lock_guard<std::mutex> lg(l->mu);
    if (!l->list.empty()) continue;
    l->in_use = true;
    return t_mine.l = l;
  }
  try {
    r.all.reserve(r.all.size() + 1);  // may throw: then nothing was added
    auto* l = new ThreadList();
    l->in_use = true;
    r.all.push_back(l);
    return t_mine.l = l;
  } catch (...) {
    return nullptr;  // out of memory: this thread's waits are missing from dump()
  }
}

// Calls fn(b) for every registered entry, each list's lock held around its own entries.
template <typename Fn>
void for_each_entry(Fn&& fn) {
  Lists& r = lists();
  std::lock_guard<std::mutex> g(r.mu);
  for (ThreadList* l : r.all) {
    std::lock_guard<std::mutex> lg(l->mu);
    for (Blocked* b : l->list)
      if (!fn(b)) return;
  }
}

}  // namespace

void block_begin(Blocked* b) {
  ThreadList* l = my_list();
  b->home = l;
  if (l == nullptr) {
    b->pos = SIZE_MAX;
    return;
  }
  std::lock_guard<std::mutex> g(l->mu);
  b->pos = l->list.size();
  try {
    l->list.push_back(b);
  } catch (...) {
    // Out of memory: this wait is just missing from dump(). Never throws: callers register
    // from inside park() and mid-way through queueing async ops.
    b->pos = SIZE_MAX;
  }
}

void block_end(Blocked* b) {
  auto* l = static_cast<ThreadList*>(b->home);
  if (l == nullptr) return;
  std::lock_guard<std::mutex> g(l->mu);
  size_t i = b->pos;
  if (i >= l->list.size() || l->list[i] != b) return;
  l->list[i] = l->list.back();
  l->list[i]->pos = i;
  l->list.pop_back();
}

std::vector<BlockedInfo> blocked_snapshot() {
  std::vector<BlockedInfo> out;
  for_each_entry([&](Blocked* b) {
    std::string obj = kind_name(b->obj->kind());
    if (!b->obj->name().empty()) obj += " " + b->obj->name();
    out.push_back(BlockedInfo{b->thread, b->op, obj, b->since_ns, b->obj->holder_thread(), b->sync});
    return true;
  });
  return out;
}

std::vector<uint64_t> blocked_sync_threads() {
  std::vector<uint64_t> out;
  for_each_entry([&](Blocked* b) {
    if (b->sync) out.push_back(b->thread);  // may throw (no memory): the caller reports it
    return true;
  });
  return out;
}

std::string find_lock_cycle(uint64_t thread, Shared* m, int32_t (*owner_of)(Shared*)) {
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
    // Each list is read under its own lock (see ThreadList): a thread registers its entry
    // before it checks, so of two threads closing a cycle at once, the one whose check takes
    // the other's list lock last sees the other's entry (the lock orders the two).
    Shared* next = nullptr;
    for_each_entry([&](Blocked* b) {
      // Only a thread blocked in a *Sync call is stuck; a pending promise is not.
      if (b->thread == owner && b->sync &&
          (b->obj->kind() == Kind::Mutex || b->obj->kind() == Kind::RWMutex)) {
        next = b->obj;
        return false;
      }
      return true;
    });
    cur = next;
  }
  return "";
}

std::string block_begin_check_cycle(Blocked* b, Shared* m, int32_t (*owner_of)(Shared*)) {
  // A process-wide lock taken only here, around the registration and the check together. Two
  // threads that lockSync each other's mutex at the same moment then go one after the other:
  // the first registers and finds no cycle (the second is not registered yet) and waits; the
  // second registers, finds the first's entry (the lock's unlock/lock orders the two, and the
  // entry is published by its list's lock) and reports the cycle. With the registration apart
  // from the check, both could register first and then both report it (two DeadlockErrors for
  // one cycle: seen under ASan once each thread had its own list). Channel parks, which check
  // nothing, never take this lock. Leaked, like the lists.
  static std::mutex* check_mu = new std::mutex();
  std::lock_guard<std::mutex> g(*check_mu);
  block_begin(b);
  return find_lock_cycle(b->thread, m, owner_of);
}

}  // namespace weft
