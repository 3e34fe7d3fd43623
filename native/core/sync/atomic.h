// atomic.h — AtomicInt64 / AtomicBool cells, AtomicValue and ProgressMeter.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "core/message.h"
#include "core/shared.h"

namespace weft {

// One 64-bit word (AtomicInt64, and AtomicBool in its low 32 bits), also mapped into each
// thread's JavaScript as a typed array over an external ArrayBuffer. Every access on either
// side is a hardware atomic on the same address (seq_cst), so JavaScript's Atomics and this
// code agree.
class AtomicCell final : public Shared {
 public:
  AtomicCell(int64_t v, Kind kind) : Shared(kind) { word_.store(v, std::memory_order_relaxed); }
  std::atomic<int64_t>& word() { return word_; }
  void* data() { return &word_; }

 private:
  alignas(64) std::atomic<int64_t> word_;
};

// A structured value with a version that advances on every store (Go's atomic.Pointer CAS by
// identity becomes CAS by version). All under one lock: loads copy the message.
class AtomicValue final : public Shared {
 public:
  explicit AtomicValue(Message* v) : Shared(Kind::Value), value_(v) {}
  ~AtomicValue() override { delete value_; }
  // Calls f(message, version) under the lock.
  template <class F>
  void read(F f) {
    std::lock_guard<std::mutex> g(mu_);
    f(value_, version_);
  }
  void store(Message* v);  // adopts v
  bool compare_and_swap(uint64_t version, Message* next);  // adopts next only on success

 private:
  std::mutex mu_;
  Message* value_;        // guarded by mu_
  uint64_t version_ = 0;  // guarded by mu_
};

// Count and time of the last progress, updated and read together under one lock, so a reader
// never sees a new count with a stale time (the book's chapter 9 pitfall).
class ProgressMeter final : public Shared {
 public:
  ProgressMeter() : Shared(Kind::Progress) {}
  // false (nothing changed): the count would pass 2^53 - 1 (no longer exact as a number).
  bool progress(double n, double at_ms) {
    std::lock_guard<std::mutex> g(mu_);
    if (count_ + n > 9007199254740991.0) return false;
    count_ += n;
    at_ = at_ms;
    return true;
  }
  void get(double* count, double* at) {
    std::lock_guard<std::mutex> g(mu_);
    *count = count_;
    *at = at_;
  }

 private:
  std::mutex mu_;
  double count_ = 0;  // guarded by mu_
  double at_ = 0;     // guarded by mu_
};

}  // namespace weft
