// test_tasks.cc — the goroutine runtime's task table (core/runtime/tasks.h) under concurrency:
// submitters add tasks, pool threads run and end them, a manager claims a "dead" thread's
// tasks at the same time. Every task is ended or claimed exactly once, and every reply
// reference the table took is given back (live_count, ASan), with no data race (TSan).
#include <mutex>

#include "core/runtime/tasks.h"
#include "harness.h"

namespace wt {
namespace {

namespace rt = weft::runtime;

TEST(tasks_basics) {
  const int64_t live0 = Shared::live_count();
  auto* reply = new Channel(4, Elem::Structured);
  const uint64_t pool = 7001;
  reply->retain();  // the table's reference
  uint64_t id = rt::task_add(pool, "m.js#f", reply);
  CHECK(rt::task_count(pool) == 1);
  CHECK(rt::task_run(id, 42));
  Shared* r = rt::task_reply(id);
  CHECK(r == reply);
  r->release();
  auto list = rt::task_list();
  bool found = false;
  for (const auto& t : list) found |= t.id == id && t.thread == 42 && t.state == rt::TaskState::kRunning && t.name == "m.js#f";
  CHECK(found);
  CHECK(rt::task_end(id));
  CHECK(!rt::task_end(id));
  CHECK(!rt::task_run(id, 42));
  CHECK(rt::task_reply(id) == nullptr);
  CHECK(rt::task_count(pool) == 0);
  // claim by thread, then by pool
  reply->retain();
  uint64_t a = rt::task_add(pool, "a", reply);
  reply->retain();
  uint64_t b = rt::task_add(pool, "b", reply);
  CHECK(rt::task_run(a, 5));
  auto c1 = rt::task_claim(pool, 5);
  CHECK(c1.size() == 1 && c1[0].first == a);
  c1[0].second->release();
  auto c2 = rt::task_claim(pool, 0);
  CHECK(c2.size() == 1 && c2[0].first == b);
  c2[0].second->release();
  CHECK(!rt::task_end(a) && !rt::task_end(b));
  reply->release();
  CHECK(Shared::live_count() == live0);
}

// 2 submitters add, 2 "pool threads" run and end what they find, 1 manager claims the tasks
// of thread 99 now and then (the runners mark a quarter of their tasks as running on 99).
TEST(tasks_concurrent) {
  const int64_t live0 = Shared::live_count();
  const uint64_t pool = 7002;
  auto* reply = new Channel(4, Elem::Structured);
  const size_t per = scaled(20000);
  std::mutex qmu;
  std::vector<uint64_t> queue;  // ids added, not yet taken
  std::atomic<size_t> added{0}, ended{0}, claimed{0};
  std::atomic<bool> stop{false};
  auto submitter = [&]() {
    for (size_t i = 0; i < per; i++) {
      reply->retain();
      uint64_t id = rt::task_add(pool, "m#f", reply);
      std::lock_guard<std::mutex> g(qmu);
      queue.push_back(id);
      added.fetch_add(1);
    }
  };
  auto runner = [&](int t) {
    Rng rng(seed_for(1500 + t));
    for (;;) {
      uint64_t id = 0;
      {
        std::lock_guard<std::mutex> g(qmu);
        if (!queue.empty()) {
          id = queue.back();
          queue.pop_back();
        }
      }
      if (id == 0) {
        if (stop.load()) break;
        std::this_thread::yield();
        continue;
      }
      uint64_t thread = rng.next() % 4 == 0 ? 99 : uint64_t(t + 1);
      if (!rt::task_run(id, thread)) continue;  // claimed meanwhile
      Shared* r = rt::task_reply(id);
      if (r != nullptr) r->release();
      if (rt::task_end(id)) ended.fetch_add(1);
    }
  };
  auto manager = [&]() {
    while (!stop.load()) {
      auto c = rt::task_claim(pool, 99);
      for (auto& [id, r] : c) r->release();
      claimed.fetch_add(c.size());
      (void)rt::task_list();
      std::this_thread::yield();
    }
  };
  std::vector<std::thread> ts;
  ts.emplace_back(submitter);
  ts.emplace_back(submitter);
  ts.emplace_back(runner, 0);
  ts.emplace_back(runner, 1);
  std::thread m(manager);
  ts[0].join();
  ts[1].join();
  stop.store(true);
  ts[2].join();
  ts[3].join();
  m.join();
  auto rest = rt::task_claim(pool, 0);
  for (auto& [id, r] : rest) r->release();
  CHECKF(ended.load() + claimed.load() + rest.size() == added.load(), "ended %zu + claimed %zu + rest %zu != added %zu",
         ended.load(), claimed.load(), rest.size(), added.load());
  CHECK(rt::task_count(pool) == 0);
  reply->release();
  CHECK(Shared::live_count() == live0);
}

}  // namespace
}  // namespace wt
