// marshal.h — the one Message <-> JavaScript marshaller: what a JS value becomes in a channel
// slot or a weft object (slot bits, a structured Message), and back.
//
// A structured value crosses as its encoded bytes (lib/internal/codec*, written into a
// Uint8Array or the thread's scratch area) plus the weft objects it references, as an array of
// handles. Numeric channel elements travel as the slot's 64 bits (core/message.h).
//
// The way back out has one shape too: value_to_js / put_message (recv_value.cc, declared in
// thread_ctx.h) return a structured value's byte length with its bytes in the scratch area
// and its weft objects waiting for takeRefs().
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

#include "core/message.h"

namespace weft {

class ThreadCtx;

// Retains the weft objects of `refs` (handles[] | undefined) into m->refs; false with a
// TypeError pending if one is not a handle (m keeps what it took; deleting m releases it).
bool add_refs(napi_env env, Message* m, napi_value refs);
// A Message from (bytes, handles[] | undefined); null with a TypeError pending if bad. bytes
// is a Uint8Array, or — when tc is given — a number: that many bytes of tc's scratch area.
Message* message_from(napi_env env, napi_value bytes, napi_value refs, ThreadCtx* tc = nullptr);

// JS value -> slot bits for a channel of element type `elem` (JS has validated the type and
// range). Structured: a new Message (see message_from), owned by the bits. False with an
// exception pending if v cannot be read.
bool value_to_bits(napi_env env, ThreadCtx* tc, Elem elem, napi_value v, napi_value refs,
                   uint64_t* out);

// Numeric elements packed in a typed array (sendMany/recvMany): bytes per element, and the
// i-th element of p as slot bits / slot bits into the i-th element.
size_t elem_size(Elem e);
uint64_t load_elem(Elem e, const uint8_t* p, size_t i);
void store_elem(Elem e, uint8_t* p, size_t i, uint64_t bits);
// The typed array type that holds elements of `e`.
napi_typedarray_type elem_array_type(Elem e);

}  // namespace weft
