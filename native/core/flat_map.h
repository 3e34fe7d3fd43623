// flat_map.h — a hash map in one flat array (open addressing, linear probing, backward-shift
// deletion): each thread's count of its handles per weft object (node/handle.cc), added and
// dropped with every handle. std::unordered_map spent a malloc and a free per entry and a
// chain walk per lookup there (Timer creation: 8.3 against 7.2 us with this).
// Measured and not kept: the go() task table (runtime/tasks.cc) on this map ran a burst of
// 100,000 tasks slower than on std::unordered_map, 5-14% with ids hashed by identity and 4-33%
// with Fibonacci hashing (3 alternating pairs each): by identity, a window of live ids is one
// run of full slots that every backward-shift deletion walks.
// An entry is its key and value side by side; the key K{} (null, 0) marks an empty slot and is
// never stored. Not thread-safe: callers hold their own lock or keep it to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <type_traits>

namespace weft {

/** Fibonacci hashing of an address (objects are 8-byte aligned at least: those bits dropped). */
struct PtrHash {
  template <typename T>
  size_t operator()(T* p) const {
    return size_t(((uint64_t(reinterpret_cast<uintptr_t>(p)) >> 3) * 0x9E3779B97F4A7C15ull) >> 32);
  }
};


template <typename K, typename V, typename H>
class FlatMap {
  static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>,
                "entries are moved with plain copies and freed without destructors");

 public:
  FlatMap() = default;
  FlatMap(const FlatMap&) = delete;
  FlatMap& operator=(const FlatMap&) = delete;
  ~FlatMap() { std::free(slots_); }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  /** The value of `k`, or null. */
  V* find(K k) {
    if (cap_ == 0) return nullptr;
    Slot& s = slots_[find_slot(k)];
    return s.key == K{} ? nullptr : &s.val;
  }

  /**
   * The value of `k`, inserted as `init` if absent; null if memory ran out (nothing changed).
   * The pointer is valid until the next insert or erase.
   */
  V* get_or_insert(K k, const V& init) {
    if ((size_ + 1) * 4 > cap_ * 3 && !resize(cap_ == 0 ? kMinCap : cap_ * 2)) return nullptr;
    Slot& s = slots_[find_slot(k)];
    if (s.key == K{}) {
      s.key = k;
      s.val = init;
      size_++;
    }
    return &s.val;
  }

  /** Removes `k` (its value to `*out` if given); false if absent. */
  bool erase(K k, V* out = nullptr) {
    if (cap_ == 0) return false;
    size_t i = find_slot(k);
    if (slots_[i].key == K{}) return false;
    if (out != nullptr) *out = slots_[i].val;
    erase_at(i);
    maybe_shrink();
    return true;
  }

  /** Calls fn(key, value&) for every entry (fn must not insert or erase). */
  template <typename F>
  void for_each(F&& fn) {
    for (size_t i = 0; i < cap_; i++)
      if (slots_[i].key != K{}) fn(slots_[i].key, slots_[i].val);
  }

  /** Removes every entry for which pred(key, value&) is true (pred may keep what it needs). */
  template <typename P>
  void erase_if(P&& pred) {
    // Backward-shift deletion moves later entries into the hole: re-test slot i after an erase.
    // An entry shifted back across the array's end (from slot 0 into the last) was tested at
    // slot 0 already; testing it again is harmless for predicates that erase what they match.
    for (size_t i = 0; i < cap_;) {
      if (slots_[i].key != K{} && pred(slots_[i].key, slots_[i].val)) {
        erase_at(i);
      } else {
        i++;
      }
    }
    maybe_shrink();
  }

 private:
  struct Slot {
    K key;
    V val;
  };
  static constexpr size_t kMinCap = 64;

  size_t home(K k) const { return H{}(k) & (cap_ - 1); }

  // The slot holding `k`, or the empty slot where it would go (the table is never full).
  size_t find_slot(K k) const {
    size_t mask = cap_ - 1;
    for (size_t i = home(k);; i = (i + 1) & mask)
      if (slots_[i].key == k || slots_[i].key == K{}) return i;
  }

  // Backward-shift deletion: the entries after the hole that a lookup would reach through it
  // move into it, so lookups never need tombstones.
  void erase_at(size_t i) {
    size_t mask = cap_ - 1;
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (slots_[j].key == K{}) break;
      size_t h = home(slots_[j].key);
      // The entry at j may move to i unless its home lies cyclically in (i, j].
      bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i].key = K{};
    size_--;
  }

  // Give memory back once most entries are gone (a burst of objects or tasks that all ended).
  void maybe_shrink() {
    if (cap_ > kMinCap && size_ * 8 < cap_) resize(cap_ / 2);  // no memory: stays as it is
  }

  bool resize(size_t cap) {
    if (cap > SIZE_MAX / sizeof(Slot)) return false;  // cap * sizeof(Slot) would overflow
    auto* fresh = static_cast<Slot*>(std::calloc(cap, sizeof(Slot)));
    if (fresh == nullptr) return false;
    Slot* old = slots_;
    size_t old_cap = cap_;
    slots_ = fresh;
    cap_ = cap;
    for (size_t i = 0; i < old_cap; i++)
      if (old[i].key != K{}) slots_[find_slot(old[i].key)] = old[i];
    std::free(old);
    return true;
  }

  Slot* slots_ = nullptr;  // calloc'd: every key K{} (empty)
  size_t cap_ = 0;         // 0 or a power of two
  size_t size_ = 0;
};

}  // namespace weft
