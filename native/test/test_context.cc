// test_context.cc — the context tree (core/time/context.h): cancel propagation while other
// threads add and drop children, deadlines served by the timer thread, cancel idempotent with
// the first cause kept, value nodes answering for their scope.
#include <cmath>

#include "core/time/context.h"
#include "harness.h"

namespace wt {
namespace {

using weft::Context;
using weft::kCtxCanceled;
using weft::kCtxDeadline;
using weft::kCtxNone;

const double kNoDeadline = std::nan("");

Context* child_of(Context* parent, uint64_t deadline_ns = 0) {
  return new Context(parent, deadline_ns, deadline_ns ? 1.0 : kNoDeadline, "", nullptr);
}

std::shared_ptr<Message> cause_msg(uint64_t id) {
  return std::shared_ptr<Message>(weft::to_message(make_msg(id)));
}

// The done channel is closed (a receive says so at once, without blocking).
bool done_closed(Context* c) {
  uint64_t v = 0;
  return c->done()->try_recv(&v) == Res::kClosed;
}

TEST(context_cancel_idempotent_cause_kept) {
  const int64_t live0 = Shared::live_count();
  auto* root = child_of(nullptr);
  auto* a = child_of(root);
  auto* b = child_of(a);
  auto* other = child_of(root);
  auto first = cause_msg(1), second = cause_msg(2), third = cause_msg(3);

  CHECK(a->cancel(kCtxCanceled, first));  // a subtree: a and b, not root or other
  CHECK(a->err() == kCtxCanceled && b->err() == kCtxCanceled && done_closed(b));
  CHECK(root->err() == kCtxNone && other->err() == kCtxNone && !done_closed(root));
  CHECK(b->cause() == first);
  CHECK(!a->cancel(kCtxDeadline, second));  // already canceled: no change
  CHECK(a->err() == kCtxCanceled && a->cause() == first);

  CHECK(root->cancel(kCtxDeadline, second));
  CHECK(root->err() == kCtxDeadline && other->err() == kCtxDeadline && other->cause() == second);
  CHECK(b->cause() == first);  // canceled before: keeps its own cause
  CHECK(!root->cancel(kCtxCanceled, third));
  CHECK(root->cause() == second && done_closed(root) && done_closed(other));

  // Born under a canceled parent: canceled at once, with the parent's error and cause.
  auto* late = child_of(other);
  CHECK(late->err() == kCtxDeadline && late->cause() == second && done_closed(late));

  // A value node shares its scope's state: canceling it cancels the scope.
  auto* scope = child_of(nullptr);
  auto* val = new Context(scope, 0, kNoDeadline, "k", weft::to_message(make_msg(9)));
  CHECK(!val->cancelable() && val->done() == scope->done() && val->key() == "k");
  CHECK(val->value() != nullptr && val->value()->bytes.size() >= 8 && val->value()->bytes[0] == 9);
  auto* under_val = child_of(val);  // a child of a value node is a child of its scope
  CHECK(val->cancel(kCtxCanceled, third));
  CHECK(scope->err() == kCtxCanceled && under_val->err() == kCtxCanceled);
  CHECK(val->cause() == third && done_closed(under_val));
  CHECK(!scope->cancel(kCtxCanceled, nullptr));

  for (Context* c : {under_val, val, scope, late, b, a, other, root}) c->release();
  CHECK(Shared::live_count() == live0);
}

// Rounds: workers grow subtrees under the root (children of the root or of their own nodes),
// drop nodes (destroying them concurrently with the cancel walk), and cancel some of their own
// subtrees; one thread cancels the root at a random moment. Afterwards every node still alive
// is canceled and its done channel closed; nodes created after the root's cancel are born
// canceled. ASan catches the walk touching a node being destroyed.
TEST(context_tree_cancel_stress) {
  const int64_t live0 = Shared::live_count();
  const int W = 3;
  const size_t R = scaled(15);
  for (size_t round = 0; round < R; round++) {
    auto* root = child_of(nullptr);
    auto root_cause = cause_msg(round), own_cause = cause_msg(1'000'000 + round);
    std::atomic<bool> canceled{false};
    std::vector<std::thread> ts;
    spawn(ts, W, 2000 + round * 8, [&](int, Rng& rng) {
      std::vector<Context*> mine;
      size_t after = 0;  // creations after the root's cancel was seen
      while (after < 20) {
        if (canceled.load(std::memory_order_acquire)) after++;
        if (mine.empty() || rng.chance(60)) {
          Context* parent = mine.empty() || rng.chance(30) ? root : mine[rng.below(mine.size())];
          Context* c = child_of(parent);
          if (after > 0) CHECK(c->err() != kCtxNone && done_closed(c));  // born canceled
          mine.push_back(c);
        } else if (rng.chance(70)) {
          size_t i = rng.below(mine.size());
          mine[i]->release();  // may destroy it (if it has no children) mid-walk
          mine[i] = mine.back();
          mine.pop_back();
        } else if (rng.chance(10)) {
          mine[rng.below(mine.size())]->cancel(kCtxCanceled, own_cause);
        }
        progress();
      }
      for (Context* c : mine) {
        CHECK(c->err() == kCtxCanceled);
        auto cause = c->cause();
        CHECK(cause == root_cause || cause == own_cause);
        CHECK(done_closed(c));
      }
      for (Context* c : mine) c->release();
    });
    ts.emplace_back([&] {
      Rng rng(seed_for(3000 + round));
      spin_for(rng.below(1'000'000));
      CHECK(root->cancel(kCtxCanceled, root_cause));
      canceled.store(true, std::memory_order_release);
    });
    join_all(ts);
    CHECK(done_closed(root) && root->cause() == root_cause);
    root->release();
    CHECK(Shared::live_count() == live0);
  }
}

// A deadline fires through the timer thread: not before it, with kCtxDeadline, to the whole
// subtree; a child's earlier deadline does not touch its parent; a cancel before the deadline
// wins (the timer's later cancel changes nothing); the timer's reference keeps a dropped
// context alive until it fires.
TEST(context_deadline) {
  const int64_t live0 = Shared::live_count();
  Rng rng(seed_for(4000));
  for (int i = 0; i < 5; i++) {
    uint64_t t0 = weft::now_ns();
    const uint64_t delay = 3'000'000;
    auto* parent = child_of(nullptr, t0 + delay);
    auto* kid = child_of(parent);
    auto* early = child_of(parent, t0 + delay / 3);
    uint64_t v;
    CHECK(recv_blocking(early->done(), &v, &rng.s) == Res::kClosed);
    CHECK(early->err() == kCtxDeadline && early->cause() == nullptr);
    CHECKF(weft::now_ns() >= t0 + delay / 3, "child deadline fired early");
    CHECK(parent->err() == kCtxNone || weft::now_ns() >= t0 + delay);
    CHECK(recv_blocking(kid->done(), &v, &rng.s) == Res::kClosed);
    uint64_t took = weft::now_ns() - t0;
    CHECKF(took >= delay, "deadline fired after %" PRIu64 " ns of %" PRIu64, took, delay);
    CHECK(parent->err() == kCtxDeadline && kid->err() == kCtxDeadline);
    for (Context* c : {early, kid, parent}) c->release();
  }
  // Canceled first: the deadline does not overwrite the error; dropped before its deadline:
  // the timer's reference keeps it until it fires, then it goes.
  const uint64_t at = weft::now_ns() + 100'000'000;
  auto* c = child_of(nullptr, at);
  auto cause = cause_msg(5);
  // On a loaded machine the deadline may come first: then the cancel loses, and says so.
  CHECK(c->cancel(kCtxCanceled, cause) || (weft::now_ns() >= at && c->err() == kCtxDeadline));
  auto* d = child_of(nullptr, at);
  c->release();
  d->release();
  int64_t live = Shared::live_count();
  if (weft::now_ns() < at) CHECK(live >= live0 + 2);  // both still in the timer heap
  while (Shared::live_count() != live0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    progress();
  }
  // Cancel racing the deadline from several threads: exactly one cancel wins.
  for (size_t round = 0; round < scaled(50); round++) {
    auto* x = child_of(nullptr, weft::now_ns() + rng.below(300'000));
    std::atomic<int> wins{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; t++)
      ts.emplace_back([&, t] {
        spin_for(uint64_t(t) * 100'000);
        if (x->cancel(kCtxCanceled, nullptr)) wins.fetch_add(1);
      });
    join_all(ts);
    uint64_t v;
    CHECK(recv_blocking(x->done(), &v, &rng.s) == Res::kClosed);
    int32_t err = x->err();
    CHECK((err == kCtxCanceled && wins.load() == 1) || (err == kCtxDeadline && wins.load() == 0));
    x->release();
  }
}

// Go's cancelCtx sets err and closes done under one lock. Here a cancel that loses, and an
// err() that sees the error set, must still find done() closed, even while the winner is
// in the middle of closing a large subtree (found by the vitest "a deadline already past is
// exceeded at once": withTimeout(ctx, 0) lost to the timer thread and returned with done()
// still open).
TEST(context_cancel_loser_sees_done_closed) {
  const int64_t live0 = Shared::live_count();
  for (size_t round = 0; round < scaled(40); round++) {
    auto* root = child_of(nullptr);
    std::vector<Context*> kids;
    for (int i = 0; i < 200; i++) kids.push_back(child_of(i % 2 || kids.empty() ? root : kids.back()));
    std::atomic<int> wins{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 3; t++)
      ts.emplace_back([&, t] {
        Rng rng(seed_for(5000 + round * 4 + t));
        spin_for(rng.below(50'000));
        Context* c = t == 0 ? root : kids[rng.below(kids.size())];
        if (c->cancel(kCtxCanceled, nullptr)) wins.fetch_add(1);
        CHECKF(done_closed(c), "a cancel returned with done() open");
      });
    ts.emplace_back([&] {  // an observer: err() set implies done() closed
      for (int n = 0; n < 2000; n++) {
        Context* c = kids[size_t(n) % kids.size()];
        if (c->err() != kCtxNone) CHECKF(done_closed(c), "err() set with done() open");
      }
    });
    join_all(ts);
    CHECK(wins.load() >= 1);
    for (Context* c : kids) CHECK(c->err() == kCtxCanceled && done_closed(c));
    for (Context* c : kids) c->release();
    root->release();
  }
  CHECK(Shared::live_count() == live0);
}

}  // namespace
}  // namespace wt
