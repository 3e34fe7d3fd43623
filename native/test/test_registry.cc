// test_registry.cc — refcounted shared objects and the share()/attach() registry under
// concurrency: no leak (live_count), no use-after-free (ASan), attach of a freed id fails.
#include <mutex>

#include "harness.h"

namespace wt {
namespace {

TEST(registry_basics) {
  const int64_t live0 = Shared::live_count();
  auto* ch = new Channel(2, Elem::I64);
  CHECK(Shared::live_count() == live0 + 1);
  CHECK(ch->refcount() == 1);
  uint64_t id = ch->share();
  CHECK(ch->refcount() == 2);  // the token's reference
  CHECK(Shared::attach(id) == ch);  // adopts the token's reference
  CHECK(ch->refcount() == 2);
  CHECK(Shared::attach(id) == ch);  // no token left: a new reference
  CHECK(ch->refcount() == 3);
  ch->release();
  ch->release();
  ch->release();
  CHECK(Shared::live_count() == live0);
  CHECK(Shared::attach(id) == nullptr);
  // Never shared: attach cannot find it.
  auto* c2 = new Channel(0, Elem::I64);
  CHECK(Shared::attach(c2->id()) == nullptr);
  c2->release();
  CHECK(Shared::attach(0) == nullptr);
  CHECK(Shared::live_count() == live0);
}

// Many threads share, attach, retain and release a pool of channels. Phase 1: the main
// thread's own references keep every object alive, so every attach must succeed. Phase 2: the
// main thread drops its references while the churn goes on, so objects die while others
// attach them; attach then returns a live object or nullptr, never a dead one.
TEST(registry_concurrent_churn) {
  const int64_t live0 = Shared::live_count();
  const int kObjects = 48, kThreads = 4;
  std::vector<Channel*> objs;
  std::vector<uint64_t> ids;
  for (int i = 0; i < kObjects; i++) {
    objs.push_back(new Channel(uint32_t(i % 3), i % 2 ? Elem::Structured : Elem::I64));
    // One token each, kept for the final sweep (a plain attach of the id may adopt it first;
    // then the sweep's attach finds the object alive or freed, either way nothing leaks).
    ids.push_back(objs.back()->share());
  }
  // Outstanding share tokens (each owns a pending reference until attached).
  std::mutex tok_mu;
  std::vector<uint64_t> tokens(ids);
  std::atomic<int> phase{1};
  std::atomic<size_t> iters_done{0};
  std::atomic<uint64_t> null_attaches{0}, attaches{0};
  const size_t iters = scaled(200000);

  auto worker = [&](int t) {
    Rng rng(seed_for(1100 + t));
    std::vector<Shared*> held;  // references this thread owns
    for (size_t it = 0; it < iters; it++) {
      switch (rng.below(6)) {
        case 0: {  // attach any id (maybe freed in phase 2)
          Shared* s = Shared::attach(ids[rng.below(ids.size())]);
          attaches.fetch_add(1, std::memory_order_relaxed);
          if (s == nullptr) {
            // The main thread drops its references only after entering phase 2.
            CHECK(phase.load() == 2);
            null_attaches.fetch_add(1, std::memory_order_relaxed);
          } else {
            CHECK(s->refcount() > 0 && s->kind() == weft::Kind::Channel);
            held.push_back(s);
          }
          break;
        }
        case 1: {  // adopt a token
          uint64_t id = 0;
          {
            std::lock_guard<std::mutex> g(tok_mu);
            if (tokens.size() > ids.size()) {  // keep the initial tokens for the sweep
              size_t k = ids.size() + rng.below(tokens.size() - ids.size());
              id = tokens[k];
              tokens[k] = tokens.back();
              tokens.pop_back();
            }
          }
          if (id != 0) {
            Shared* s = Shared::attach(id);
            if (s) held.push_back(s);
          }
          break;
        }
        case 2:  // share something we hold
          if (!held.empty()) {
            uint64_t id = held[rng.below(held.size())]->share();
            std::lock_guard<std::mutex> g(tok_mu);
            tokens.push_back(id);
          }
          break;
        case 3:  // retain
          if (!held.empty() && held.size() < 64) {
            Shared* s = held[rng.below(held.size())];
            s->retain();
            held.push_back(s);
          }
          break;
        default:  // release
          if (!held.empty()) {
            size_t k = rng.below(held.size());
            Shared* s = held[k];
            held[k] = held.back();
            held.pop_back();
            // Sometimes the object travels in a message first (a reference in flight).
            if (rng.chance(10)) {
              auto* m = new Message();
              m->refs.push_back(s);
              delete m;
            } else {
              s->release();
            }
          }
          break;
      }
      if ((it & 255) == 0) {
        progress();
        iters_done.fetch_add(256);
      }
    }
    for (Shared* s : held) s->release();
  };

  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) ts.emplace_back(worker, t);
  while (iters_done.load() < iters * kThreads / 3) std::this_thread::yield();
  phase.store(2);
  for (Channel* c : objs) c->release();  // the main thread's references
  join_all(ts);
  // Sweep: attach and release every remaining token; afterwards nothing is pending.
  for (uint64_t id : tokens) {
    Shared* s = Shared::attach(id);
    if (s) s->release();
  }
  CHECKF(Shared::live_count() == live0, "live %" PRId64 ", expected %" PRId64,
         Shared::live_count(), live0);
  for (uint64_t id : ids) CHECK(Shared::attach(id) == nullptr);
  std::printf("  %" PRIu64 " attaches, %" PRIu64 " found a freed object\n",
              uint64_t(attaches.load()), uint64_t(null_attaches.load()));
}

// The narrow race: the last release of an object against attach() of its id on other threads.
TEST(registry_release_vs_attach) {
  const int64_t live0 = Shared::live_count();
  const size_t rounds = scaled(10000);
  std::atomic<uint64_t> current{0};
  std::atomic<bool> done{false};
  std::atomic<uint64_t> hits{0}, misses{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; t++) {
    ts.emplace_back([&] {
      while (!done.load()) {
        uint64_t id = current.load();
        if (id == 0) continue;
        if (Shared* s = Shared::attach(id)) {
          hits.fetch_add(1, std::memory_order_relaxed);
          auto* ch = static_cast<Channel*>(s);
          uint64_t v = 0;
          (void)ch->try_recv(&v);  // touch it: must be alive
          CHECK(ch->capacity() == 1);
          s->release();
        } else {
          misses.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (size_t r = 0; r < rounds; r++) {
    auto* ch = new Channel(1, Elem::I64);
    uint64_t id = ch->share();
    Shared* adopted = Shared::attach(id);  // consume the token: only our reference + attaches
    CHECK(adopted == ch);
    adopted->release();
    current.store(id);
    spin_for(2000);
    ch->release();  // may or may not be the last one
    if ((r & 63) == 0) progress();
  }
  done.store(true);
  join_all(ts);
  current.store(0);
  CHECK(Shared::live_count() == live0);
  std::printf("  %" PRIu64 " attaches found the object alive, %" PRIu64 " did not\n",
              uint64_t(hits.load()), uint64_t(misses.load()));
}

// Objects that travel inside messages through channels keep their referents alive; when the
// last handle drops, everything is freed (live_count returns to its start).
TEST(registry_refs_in_flight) {
  const int64_t live0 = Shared::live_count();
  const size_t n = scaled(8000);
  auto* carrier = new Channel(4, Elem::Structured);
  auto* rendez = new Channel(0, Elem::Structured);
  std::vector<std::thread> ts;
  spawn(ts, 2, 1200, [&](int, Rng& rng) {
    for (size_t i = 0; i < n; i++) {
      auto* obj = new Channel(1, Elem::I64);
      CHECK(obj->try_send(i) == Res::kOk);
      uint64_t id = obj->share();
      uint64_t m = make_msg(id, obj, 0);  // the message owns a reference
      obj->release();                     // our own: only the message and the token keep it
      Channel* via = (i & 1) ? carrier : rendez;
      CHECK(send_blocking(via, m, &rng.s, rng.chance(50)) == Res::kOk);
    }
  });
  std::vector<std::thread> cs;
  spawn(cs, 2, 1300, [&](int, Rng& rng) {
    Channel* from[2] = {carrier, rendez};
    while (from[0] != nullptr || from[1] != nullptr) {
      Op op(2);  // receive from either; a closed one becomes a nil case
      op[0].ch = from[0];
      op[1].ch = from[1];
      SelectOut out;
      CHECK(op.block(&rng.s, &out, rng.chance(50)) == WaitStatus::kDone);
      CHECK(out.index == 0 || out.index == 1);
      if (out.res == Res::kClosed) {
        from[out.index] = nullptr;
        continue;
      }
      uint64_t m = out.val;
      uint64_t id = msg_id(m);
      Shared* s = Shared::attach(id);  // adopts the token
      CHECK(s != nullptr);
      auto* obj = static_cast<Channel*>(s);
      uint64_t v = ~0ull;
      CHECK(obj->try_recv(&v) == Res::kOk);
      weft::drop_value(Elem::Structured, m);  // drops the message's reference
      s->release();
    }
  });
  join_all(ts);
  carrier->close();
  rendez->close();
  join_all(cs);
  carrier->release();
  rendez->release();
  CHECK(Shared::live_count() == live0);
}

}  // namespace
}  // namespace wt
