// registry.h — the one process-wide registry of objects shared between threads.
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
#include <string>
#include <vector>

namespace weft {

enum class Kind : uint8_t {
  Channel = 1,
  Timer = 2,
  Context = 3,
  Mutex = 4,
  RWMutex = 5,
  WaitGroup = 6,
  Semaphore = 7,
  Cond = 8,
  Once = 9,
  Atomic = 10,
  Value = 11,
  Progress = 12,
  AtomicBool = 13,
  Ticker = 14,
  Payload = 15,  // a SharedArrayBuffer's memory or a compiled WebAssembly.Module (sab.cc)
};

const char* kind_name(Kind k);

class TimerService;

class Shared {
 public:
  explicit Shared(Kind kind);
  virtual ~Shared();
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  Kind kind() const { return kind_; }
  // The `name` option given at creation (diagnostics); set before the object is shared.
  const std::string& name() const { return name_; }
  void set_name(std::string n) { name_ = std::move(n); }
  uint64_t id() const { return id_; }

  // Adds a reference unless the count already reached zero (the object is being destroyed);
  // for holders of non-owning pointers (a context's list of children).
  bool try_retain();

  // Adds a reference. The caller must already own one (or hold the registry lock while the
  // object is known to be alive), so the count can never be revived from zero here.
  void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; the last one destroys the object. acq_rel: the thread that frees the
  // object must see every write made by threads that dropped their references before it.
  void release();

  int64_t refcount() const { return refs_.load(std::memory_order_relaxed); }

  // share(): one more reference, parked in the registry until the first attach() adopts it.
  uint64_t share();

  // attach(): a reference for the calling thread, or nullptr when the object no longer exists.
  static Shared* attach(uint64_t id);

  // Number of objects alive right now (diagnostics and leak tests).
  static int64_t live_count();

  // The process-wide timer thread's service, part of the same single registry.
  static TimerService& timers();

  // ---- blocked operations, for dump() and deadlock detection ----------------------------
  struct Blocked {
    uint64_t thread;
    const char* op;
    Shared* obj;      // not owned: the blocked call keeps it alive while registered
    uint64_t since_ns;
    bool sync = false;  // the thread itself is blocked (a *Sync call), not just a promise
    size_t pos = 0;     // index in the registry's list (O(1) removal), guarded by its lock
  };
  static void block_begin(Blocked* b);
  static void block_end(Blocked* b);
  // Copies of the current entries with the objects' descriptions ("mutex db", ...).
  struct BlockedInfo {
    uint64_t thread;
    std::string op;
    std::string object;
    uint64_t since_ns;
  };
  static std::vector<BlockedInfo> blocked();
  // Lock-cycle check for a thread about to wait for `m` (a Mutex): follows owner -> the mutex
  // that owner waits for -> ... and returns a description of the cycle through `thread`, or
  // "" if there is none. `owner_of` reads a mutex's owner thread.
  static std::string find_cycle(uint64_t thread, Shared* m, int32_t (*owner_of)(Shared*));

 private:
  std::atomic<int64_t> refs_{1};
  std::string name_;
  // Protected by the registry mutex (see registry.cc).
  int64_t pending_shares_ = 0;
  bool in_map_ = false;
  const uint64_t id_;
  const Kind kind_;
};

}  // namespace weft
