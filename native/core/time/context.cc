// context.cc — see context.h.
#include "core/time/context.h"

#include <algorithm>
#include <thread>

namespace weft {

namespace {
// Depth of Context::cancel calls running on this thread: while a thread is the winner of a
// cancel, its own err() must not wait for the done channels it has yet to close.
thread_local int t_cancelling = 0;
}  // namespace

// Go sets err and closes done under one lock, so err() != nil implies Done() is closed and a
// second cancel returns only after the first has closed Done(). Here the winner sets err_
// (phase 1, under mu_) before it closes done_ (phase 2, no lock held), so whoever sees err_ set
// without being that winner waits out the gap. acquire: closed() pairs with the release store
// of done_->close() in phase 2 of cancel(). The winner never waits on anything this thread
// holds (it takes only the descendants' mu_ and their channel locks, and neither is held
// here), so the wait is bounded by the winner's walk. `own`: the cancel calls of the caller's
// own on this thread (0 from err(), 1 from a cancel that lost); more means a cancel this thread
// is running encloses the call, and that one closes done_ itself.
void Context::await_done_closed(int own) const {
  if (t_cancelling != own) return;
  while (!done_->closed()) std::this_thread::yield();
}

Context::Context(Context* parent, uint64_t deadline_ns, double deadline_ms, std::string key,
                 Message* value)
    : TimerTarget(Kind::Context),
      parent_(parent),
      done_(nullptr),
      // A node is its own cancel scope unless it only adds a value (Go's valueCtx).
      cancelable_(value == nullptr),
      // A node without its own deadline reports its parent's (Go's ctx.Deadline()).
      deadline_ms_(deadline_ms == deadline_ms || parent == nullptr ? deadline_ms
                                                                   : parent->deadline_ms_),
      key_(std::move(key)),
      value_(value) {
  if (parent_ != nullptr) parent_->retain();
  if (!cancelable_) {
    // Value nodes share the done channel and cancellation state of the nearest scope.
    done_ = parent_->done_;
    done_->retain();
    return;
  }
  // Out of memory, each step may throw; the destructor does not run for an object whose
  // constructor threw, so undo here what is done (nothing may keep a pointer to this).
  try {
    done_ = new Channel(0, Elem::Structured);
    done_->set_owner(Channel::Owner::Context);  // before any handle to it exists
    if (parent_ != nullptr) parent_->add_child(this);
    try {
      if (deadline_ns != 0) timer_service().schedule(this, deadline_ns, 0);
    } catch (...) {
      if (parent_ != nullptr) parent_->remove_child(this);
      throw;
    }
  } catch (...) {
    if (done_ != nullptr) done_->release();
    if (parent_ != nullptr) parent_->release();
    delete value_;
    throw;
  }
}

Context::~Context() {
  if (cancelable_ && parent_ != nullptr) parent_->remove_child(this);
  done_->release();
  delete value_;
  if (parent_ != nullptr) parent_->release();
}

// Value nodes answer for their scope.
int32_t Context::err() {
  if (!cancelable_) return parent_->err();
  int32_t e;
  {
    std::lock_guard<std::mutex> g(mu_);
    e = err_;
  }
  if (e != kCtxNone) await_done_closed(0);
  return e;
}

std::shared_ptr<Message> Context::cause() {
  if (!cancelable_) return parent_->cause();
  std::lock_guard<std::mutex> g(mu_);
  return cause_;
}

void Context::add_child(Context* c) {
  if (!cancelable_) {
    parent_->add_child(c);
    return;
  }
  int32_t err;
  std::shared_ptr<Message> cause;
  {
    std::lock_guard<std::mutex> g(mu_);
    err = err_;
    cause = cause_;
    if (err == kCtxNone) children_.push_back(c);
  }
  // Born under a canceled parent: canceled at once, with the parent's error and cause.
  if (err != kCtxNone) c->cancel(err, cause);
}

void Context::remove_child(Context* c) {
  if (!cancelable_) {
    parent_->remove_child(c);
    return;
  }
  std::lock_guard<std::mutex> g(mu_);
  auto it = std::find(children_.begin(), children_.end(), c);
  if (it != children_.end()) children_.erase(it);
}

bool Context::cancel(int32_t err, std::shared_ptr<Message> cause) {
  if (!cancelable_) return parent_->cancel(err, std::move(cause));
  // Phase 1: mark the whole subtree canceled (iteratively: trees can be deep), taking a
  // reference on every descendant reached. Phase 2: close the done channels deepest first,
  // this one last. A thread that sees this done() closed therefore sees every descendant's
  // err() set and done() closed: closing is the release that its receive acquires.
  std::vector<Context*> order;
  std::vector<Context*> stack{this};
  struct Depth {
    Depth() { ++t_cancelling; }
    ~Depth() { --t_cancelling; }
  } depth;
  while (!stack.empty()) {
    Context* c = stack.back();
    stack.pop_back();
    bool already;
    {
      std::lock_guard<std::mutex> g(c->mu_);
      already = c->err_ != kCtxNone;  // already canceled (the first cancel keeps its cause)
      if (!already) {
        c->err_ = err;
        c->cause_ = cause;
        for (Context* k : c->children_)
          if (k->try_retain()) stack.push_back(k);
        c->children_.clear();
      }
    }
    if (already) {
      if (c == this) {
        // Lost to another cancel: return once it has closed done(), as Go's second cancel
        // does (a deadline already past must leave done() closed when withDeadline returns).
        await_done_closed(1);
        return false;
      }
      // Our walk reference is dropped only after c->mu_ is unlocked: it may be the last one
      // (the owner released c meanwhile), and then release() destroys c and its mutex. (Found
      // by test_context.cc: dropping it under the lock_guard unlocked a freed mutex.)
      c->release();
      continue;
    }
    order.push_back(c);
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    (*it)->done_->close();
    if (*it != this) (*it)->release();
  }
  return true;
}

void Context::fire(uint64_t, uint64_t) { cancel(kCtxDeadline, nullptr); }

}  // namespace weft
