// message.h — what a channel slot holds.
//
// Numeric channels store the value's 64 bits inline. Structured channels store a pointer to a
// Message: the bytes produced by the JavaScript codec plus the weft objects the value refers
// to. A Message owns one reference on each of those objects from the moment the sender builds
// it until a receiver adopts them into handles (or the message is dropped), so an object sent
// through a channel stays alive while it is in flight even if every thread dropped it.
// The same refs carry the memory of SharedArrayBuffers and compiled WebAssembly modules in
// the value (Kind::Payload, bind_payload.cc): shared while buffered, released when the message is.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "core/shared.h"

namespace weft {

using Elem = abi::Elem;  // native/core/abi.h

struct Message {
  std::vector<uint8_t> bytes;
  std::vector<Shared*> refs;  // one owned reference each

  Message() = default;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message() {
    for (Shared* s : refs) s->release();
  }
};

// Bit 0 of a structured slot value is clear for a message pointer (set: an inline value, see
// abi.h kRingSlotValueByteOffset).
static_assert(alignof(Message) >= 2);
inline uint64_t to_bits(Message* m) { return uint64_t(reinterpret_cast<uintptr_t>(m)); }
inline Message* to_message(uint64_t bits) {
  return reinterpret_cast<Message*>(uintptr_t(bits));
}

// Frees whatever a slot value owns (a structured message); numeric values own nothing.
inline void drop_value(Elem e, uint64_t bits) {
  if (e == Elem::Structured && bits != 0) delete to_message(bits);
}

inline uint64_t f64_bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}
inline double bits_f64(uint64_t b) {
  double d;
  std::memcpy(&d, &b, sizeof d);
  return d;
}

}  // namespace weft
