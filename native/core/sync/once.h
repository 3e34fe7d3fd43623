// once.h — Go's sync.Once / sync.OnceValue across threads: one runner, its outcome kept for every
// caller, a FIFO wait queue (waitq.h) of the callers that came while it ran.
#pragma once

#include <cstdint>
#include <mutex>

#include "core/abi.h"
#include "core/message.h"
#include "core/park/waitq.h"

namespace weft {

// Runs a function once across threads and keeps its outcome (a structured message, and
// whether it was an error) for every caller. If the thread running it exits first, the
// waiters are told to retry and the next caller runs it.
class Once final : public SyncPrim {
 public:
  enum State : int32_t {  // abi::OnceState
    kIdle = abi::ix(abi::OnceState::Idle),
    kRunning = abi::ix(abi::OnceState::Running),
    kDone = abi::ix(abi::OnceState::Done),
  };
  // What the kept outcome is: fn's value, the error it threw, or the message of the
  // DataCloneError its value or error raised (so later callers can rethrow one).
  enum Outcome : int32_t {  // abi::OnceOutcome
    kValue = abi::ix(abi::OnceOutcome::Value),
    kError = abi::ix(abi::OnceOutcome::Error),
    kCloneError = abi::ix(abi::OnceOutcome::CloneError),
  };
  Once();
  ~Once() override;
  // kIdle: the caller must run fn now (state became kRunning for `thread`); kDone: read the
  // result; kRunning: someone else runs it — queue r (returns kRunning) and wait.
  int32_t enter(uint64_t thread, SyncRec* r);
  void finish(Message* result, Outcome outcome);  // adopts result
  void runner_exited(uint64_t thread);          // back to idle, waiters retry
  State state();
  // Whether `thread` is the one running fn now (a blocking wait by it would never end).
  bool running_on(uint64_t thread);
  // Only after state() returned kDone or a wait was woken with kDone (both order the writes of
  // finish() before the read: mu_, or complete()'s release; see once.cc).
  const Message* result() const { return result_; }
  Outcome outcome() const { return outcome_; }
  void unlink(SyncRec* r) override;
  void abandon(SyncRec* r) override;

 private:
  std::mutex mu_;
  State state_ = kIdle;      // guarded by mu_
  uint64_t runner_ = 0;      // guarded by mu_
  Message* result_ = nullptr;  // written once under mu_ before state_ = kDone
  Outcome outcome_ = kValue;  // written once under mu_ before state_ = kDone
  SyncQueue q_;  // guarded by mu_
};

}  // namespace weft
