// shared.h — the one process-wide registry of objects shared between threads.
//
// Every weft object (channel, and later mutexes, wait groups, ...) derives from Shared and
// lives in native memory. Ownership is a plain atomic reference count: each JavaScript handle
// on any thread owns one reference, each message that carries the object owns one, and each
// pending share() token owns one. The registry map (id -> object) exists only so that a token
// that crossed threads through postMessage (which can only carry plain data) can be turned
// back into a pointer by attach(); that map is the single piece of static mutable state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/abi.h"

namespace weft {

using Kind = abi::Kind;  // native/core/abi.h

const char* kind_name(Kind k);

class Shared {
 public:
  explicit Shared(Kind kind);
  virtual ~Shared();
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  Kind kind() const { return kind_; }
  // The `name` option given at creation (diagnostics); set before the object is shared, so
  // readers on other threads see it through the hand-off that shared the object. Kept behind
  // a pointer: most objects have no name, and an empty std::string would cost every object
  // 32 bytes (bench 11.10a).
  const std::string& name() const { return name_ ? *name_ : no_name(); }
  void set_name(std::string n) {
    if (n.empty()) name_.reset();
    else name_ = std::make_unique<std::string>(std::move(n));
  }
  uint64_t id() const { return id_; }
  // The thread holding it (a Mutex or an RWMutex's write lock), 0 if none or unknown; a
  // diagnostic hint for dump(), read without the object's lock.
  virtual uint64_t holder_thread() const { return 0; }

  // Adds a reference unless the count already reached zero (the object is being destroyed);
  // for holders of non-owning pointers (a context's list of children).
  bool try_retain();

  // Adds a reference. The caller must already own one (or hold the registry lock while the
  // object is known to be alive), so the count can never be revived from zero here.
  void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; the last one destroys the object. acq_rel: the thread that frees the
  // object must see every write made by threads that dropped their references before it.
  void release();

  int64_t refcount() const { return refs_.load(std::memory_order_relaxed) & kCountMask; }

  // share(): one more reference, parked in the registry until the first attach() adopts it.
  uint64_t share();

  // attach(): a reference for the calling thread, or nullptr when the object no longer exists.
  static Shared* attach(uint64_t id);

  // Number of objects alive right now (diagnostics and leak tests).
  static int64_t live_count();

  // ---- unreachable operations (Go's "all goroutines are asleep"; see deadlock.cc) --------
  // A thread whose event loop has nothing left but weft operations asks whether another
  // thread could still complete them. While it waits on objects that others hold, it is a
  // watcher: release() wakes every watcher once some object's count drops to the level a
  // watcher asked for (watch_below), since that object may have just become reachable only
  // from the watcher. The watcher list stays in this Node-free file; `wake` is its callback.
  //
  // The level lives in the high bits of the reference count word itself: release() learns it
  // from its own decrement (it must not read the object after that: another thread may free
  // it), and a watcher's CAS that sets it reads the count in the same step, so either the
  // watcher sees a decrement or the decrement sees the level.
  // Sets the level to at least n (only raised: a stale level costs a spurious wake-up, never a
  // missed one); returns the count at that moment. Needs a reference (or a holder's) held.
  int64_t watch_below(int64_t n);
  static void watcher_add(void* key, void (*wake)(void* key));
  static void watcher_remove(void* key);

 private:
  static void notify_watchers();
  // Bits 0..39: the count. Bits 40..62: 0, or 1 + the level of watch_below.
  static constexpr int kWatchShift = 40;
  static constexpr int64_t kCountMask = (int64_t(1) << kWatchShift) - 1;
  static constexpr int64_t kWatchMax = (int64_t(1) << 23) - 1;
  static const std::string& no_name();
  std::atomic<int64_t> refs_{1};
  std::unique_ptr<std::string> name_;  // null: no name
  // Protected by the registry mutex (see shared.cc).
  int64_t pending_shares_ = 0;
  const uint64_t id_;
  bool in_map_ = false;  // protected by the registry mutex, as pending_shares_
  const Kind kind_;
};

}  // namespace weft
