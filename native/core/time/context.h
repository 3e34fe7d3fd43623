// context.h — Go's context tree in native memory, so that cancellation reaches every thread.
//
// A Context owns a done channel (unbuffered, never sent on, closed once on cancel), an error
// code, an optional cause (a structured message shared by the descendants) and an optional
// deadline served by the timer thread. Cancel runs synchronously down the tree: a parent
// keeps non-owning pointers to its children and takes a reference on each (try_retain) before
// walking them, so a child being destroyed concurrently is skipped, never touched after free.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/abi.h"
#include "core/chan/channel.h"
#include "core/message.h"
#include "core/time/timer.h"

namespace weft {

// The values of abi::CtxErr (native/core/abi.h) under the names native code uses.
enum CtxErr : int32_t {
  kCtxNone = abi::ix(abi::CtxErr::None),
  kCtxCanceled = abi::ix(abi::CtxErr::Canceled),
  kCtxDeadline = abi::ix(abi::CtxErr::Deadline),
};

class Context final : public TimerTarget {
 public:
  // parent may be null (a root). deadline_ns is CLOCK_MONOTONIC (0 = none); deadline_ms the
  // same instant on the wall clock, for deadline(). Adopts `value` (may be null).
  Context(Context* parent, uint64_t deadline_ns, double deadline_ms, std::string key,
          Message* value);
  ~Context() override;

  Channel* done() const { return done_; }
  int32_t err();
  double deadline_ms() const { return deadline_ms_; }
  Context* parent() const { return parent_; }
  const std::string& key() const { return key_; }
  const Message* value() const { return value_; }
  bool cancelable() const { return cancelable_; }
  // The cause given to the cancel that won (null if none was given, or not canceled).
  std::shared_ptr<Message> cause();

  // Cancels this context and all its descendants; false if it was already canceled.
  bool cancel(int32_t err, std::shared_ptr<Message> cause);
  void fire(uint64_t gen, uint64_t now_ns) override;

 private:
  void await_done_closed(int own) const;
  void add_child(Context* c);
  void remove_child(Context* c);

  Context* const parent_;   // owned reference (keeps the chain of values alive)
  Channel* done_;           // owned reference; shared with the parent for value-only nodes
  const bool cancelable_;   // false for value-only nodes (they share their parent's state)
  const double deadline_ms_;
  const std::string key_;   // value nodes: the key as text ("" if not transferable)
  Message* const value_;    // value nodes: the value (owned)
  std::mutex mu_;
  int32_t err_ = kCtxNone;            // guarded by mu_
  std::shared_ptr<Message> cause_;    // guarded by mu_
  std::vector<Context*> children_;    // guarded by mu_; non-owning (see above)
};

}  // namespace weft
