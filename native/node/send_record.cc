// send_record.cc — finishing a JavaScript ring send that Worker.terminate() stopped midway.
//
// A thread's JavaScript sends a value through a ring (lib/chan/ring.ts trySend) after
// writing its send record (abi.h: kSendRecord*: ring serial, position, value) and while holding
// the slot's owner word. Stopped between its claim and its publish, it would leave a slot no
// other thread can fill, and the ring stuck. Channel::finish_send completes it from the record;
// it runs on the stopped thread itself, once its JavaScript can no longer run:
// - first in ThreadCtx::cleanup (the environment is ending): before anything there pushes
//   values back into channels (a push may have to wait for that very slot);
// - again, harmlessly, when the ring header buffer is finalized.
// Everything here is per thread (thread_local), touched only by that thread.
#include <unordered_map>

#include "node/bind_chan.h"
#include "node/napi_util.h"

namespace weft {

namespace {

// The rings this thread has mapped, by serial: a header buffer each (counted, since a
// thread can map a channel more than once). Each buffer holds a reference to its channel, so
// a channel listed here is alive.
struct Mapped {
  Channel* ch;
  uint32_t count;
};
std::unordered_map<uint32_t, Mapped>& this_thread_rings() {
  thread_local std::unordered_map<uint32_t, Mapped> rings;
  return rings;
}

}  // namespace

napi_value js_send_record(napi_env env, napi_callback_info) {
  abi::SendRecord& rec = this_thread_send_record();
  if (rec.id == 0) rec.id = Channel::new_send_id();
  napi_value ab;
  if (napi_create_external_arraybuffer(env, &rec, sizeof rec, nullptr, nullptr, &ab) != napi_ok)
    return nullptr;
  return ab;
}

abi::SendRecord& this_thread_send_record() {
  // thread_local outlives the environment's cleanup and finalizers (they run before the
  // thread exits); each worker is its own OS thread.
  thread_local abi::SendRecord rec;
  return rec;
}

void ring_mapped(Channel* ch) {
  auto it = this_thread_rings().try_emplace(ch->ring_header()->serial, Mapped{ch, 0}).first;
  if (it->second.ch == ch) it->second.count++;
  // (a different channel with the same serial: 2^32 rings later; it is simply not tracked)
}

void ring_unmapped(Channel* ch) {
  ch->finish_send(this_thread_send_record());
  auto& rings = this_thread_rings();
  auto it = rings.find(ch->ring_header()->serial);
  if (it != rings.end() && it->second.ch == ch && --it->second.count == 0) rings.erase(it);
}

void finish_stopped_send() {
  const abi::SendRecord& rec = this_thread_send_record();
  if (rec.id == 0) return;  // this thread never sent through a ring in JavaScript
  auto& rings = this_thread_rings();
  auto it = rings.find(rec.serial);
  if (it != rings.end()) it->second.ch->finish_send(rec);
}

}  // namespace weft
