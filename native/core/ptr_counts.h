// ptr_counts.h — a count per pointer, in one flat array (open addressing, linear probing).
//
// What a thread keeps for each weft object it holds handles to (handle.cc): an entry is added
// when a handle is made and dropped when it is finalized, millions of times in a program that
// makes short-lived objects (a Timer is two handles). std::unordered_map spent a malloc and a
// free per entry and a chain walk per lookup there (a quarter of a Timer's creation, measured
// with perf); here an entry is two words in one array. Single-threaded: each thread has its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace weft {

template <typename K>
class PtrCounts {
 public:
  PtrCounts() = default;
  PtrCounts(const PtrCounts&) = delete;
  PtrCounts& operator=(const PtrCounts&) = delete;
  ~PtrCounts() { std::free(slots_); }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  /** Adds one to `k`'s count (an absent key counts 0). False if memory ran out (nothing changed). */
  bool add(K* k) {
    if ((size_ + 1) * 4 > cap_ * 3 && !resize(cap_ == 0 ? kMinCap : cap_ * 2)) return false;
    size_t i = find_slot(k);
    if (slots_[i].key == nullptr) {
      slots_[i].key = k;
      slots_[i].n = 0;
      size_++;
    }
    slots_[i].n++;
    return true;
  }

  /** Takes one from `k`'s count and removes it at 0; false if `k` had no count. */
  bool drop(K* k) {
    if (cap_ == 0) return false;
    size_t i = find_slot(k);
    if (slots_[i].key == nullptr) return false;
    if (--slots_[i].n == 0) {
      erase_at(i);
      // Give memory back once most entries are gone (a burst of objects that all died).
      if (cap_ > kMinCap && size_ * 8 < cap_) resize(cap_ / 2);
    }
    return true;
  }

  int64_t get(K* k) const {
    if (cap_ == 0) return 0;
    size_t i = find_slot(k);
    return slots_[i].key == nullptr ? 0 : slots_[i].n;
  }

  template <typename F>
  void for_each(F&& fn) const {
    for (size_t i = 0; i < cap_; i++)
      if (slots_[i].key != nullptr) fn(slots_[i].key, slots_[i].n);
  }

 private:
  struct Slot {
    K* key;
    int64_t n;
  };
  static constexpr size_t kMinCap = 64;

  size_t home(K* k) const {
    // Fibonacci hashing of the address (objects are 8-byte aligned at least: drop those bits).
    uint64_t h = (uint64_t(reinterpret_cast<uintptr_t>(k)) >> 3) * 0x9E3779B97F4A7C15ull;
    return size_t(h >> 32) & (cap_ - 1);
  }

  // The slot holding `k`, or the empty slot where it would go (the table is never full).
  size_t find_slot(K* k) const {
    size_t mask = cap_ - 1;
    for (size_t i = home(k);; i = (i + 1) & mask)
      if (slots_[i].key == k || slots_[i].key == nullptr) return i;
  }

  // Backward-shift deletion: entries after the hole that would be found from before it move
  // into it, so lookups never need tombstones.
  void erase_at(size_t i) {
    size_t mask = cap_ - 1;
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (slots_[j].key == nullptr) break;
      size_t h = home(slots_[j].key);
      // Can the entry at j live in i? Yes unless its home lies cyclically in (i, j].
      bool in_between = i <= j ? (h > i && h <= j) : (h > i || h <= j);
      if (in_between) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i].key = nullptr;
    size_--;
  }

  bool resize(size_t cap) {
    auto* fresh = static_cast<Slot*>(std::calloc(cap, sizeof(Slot)));
    if (fresh == nullptr) return false;
    Slot* old = slots_;
    size_t old_cap = cap_;
    slots_ = fresh;
    cap_ = cap;
    for (size_t i = 0; i < old_cap; i++) {
      if (old[i].key == nullptr) continue;
      size_t j = find_slot(old[i].key);
      slots_[j] = old[i];
    }
    std::free(old);
    return true;
  }

  Slot* slots_ = nullptr;
  size_t cap_ = 0;
  size_t size_ = 0;
};

}  // namespace weft
