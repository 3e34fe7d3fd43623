// atomic.cc — see atomic.h.
#include "core/sync/atomic.h"

namespace weft {

void AtomicValue::store(Message* v) {
  Message* old;
  {
    std::lock_guard<std::mutex> g(mu_);
    old = value_;
    value_ = v;
    version_++;
  }
  delete old;  // outside the lock: may release weft objects
}

bool AtomicValue::compare_and_swap(uint64_t version, Message* next) {
  Message* old;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (version != version_) return false;
    old = value_;
    value_ = next;
    version_++;
  }
  delete old;
  return true;
}

}  // namespace weft
