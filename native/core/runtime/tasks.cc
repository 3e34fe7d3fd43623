// tasks.cc — see tasks.h.
#include "core/runtime/tasks.h"

#include <mutex>
#include <unordered_map>

#include "core/park/parker.h"

namespace weft::runtime {
namespace {

struct Rec {
  uint64_t pool;
  std::string name;
  uint64_t thread;
  TaskState state;
  uint64_t since_ns;
  Shared* reply;  // one owned reference
};

struct Table {
  // Guards every field below. Each operation is a short critical section; a task costs three
  // of them (add, run, end), all on different threads in general: the mutex orders them, so a
  // claim by the pool manager and a task_end by the pool thread never both own `reply`.
  std::mutex mu;
  std::unordered_map<uint64_t, Rec> recs;
  uint64_t next_id = 1;
  Shared* root = nullptr;  // owned reference, never dropped (the slot lives as long as the process)
};

Table& table() {
  static Table* t = new Table();  // never destroyed: pool threads may still use it at exit
  return *t;
}

}  // namespace

uint64_t task_add(uint64_t pool, std::string name, Shared* reply) {
  Table& t = table();
  uint64_t now = now_ns();
  std::lock_guard<std::mutex> g(t.mu);
  uint64_t id = t.next_id++;
  t.recs.emplace(id, Rec{pool, std::move(name), 0, TaskState::kQueued, now, reply});
  return id;
}

bool task_run(uint64_t id, uint64_t thread) {
  Table& t = table();
  uint64_t now = now_ns();
  std::lock_guard<std::mutex> g(t.mu);
  auto it = t.recs.find(id);
  if (it == t.recs.end()) return false;
  it->second.thread = thread;
  it->second.state = TaskState::kRunning;
  it->second.since_ns = now;
  return true;
}

bool task_end(uint64_t id) {
  Table& t = table();
  Shared* reply = nullptr;
  {
    std::lock_guard<std::mutex> g(t.mu);
    auto it = t.recs.find(id);
    if (it == t.recs.end()) return false;
    reply = it->second.reply;
    t.recs.erase(it);
  }
  // Outside the lock: the last release destroys the channel (and may wake watchers).
  if (reply != nullptr) reply->release();
  return true;
}

std::vector<TaskInfo> task_list() {
  Table& t = table();
  std::lock_guard<std::mutex> g(t.mu);
  std::vector<TaskInfo> out;
  out.reserve(t.recs.size());
  for (const auto& [id, r] : t.recs) out.push_back(TaskInfo{id, r.pool, r.name, r.thread, r.state, r.since_ns});
  return out;
}

std::vector<std::pair<uint64_t, Shared*>> task_claim(uint64_t pool, uint64_t thread) {
  Table& t = table();
  std::lock_guard<std::mutex> g(t.mu);
  std::vector<std::pair<uint64_t, Shared*>> out;
  for (auto it = t.recs.begin(); it != t.recs.end();) {
    if (it->second.pool == pool && (thread == 0 || it->second.thread == thread)) {
      out.emplace_back(it->first, it->second.reply);  // the reference moves to the caller
      it = t.recs.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

size_t task_count(uint64_t pool) {
  Table& t = table();
  std::lock_guard<std::mutex> g(t.mu);
  size_t n = 0;
  for (const auto& [id, r] : t.recs) n += r.pool == pool ? 1 : 0;
  return n;
}

Shared* root_get_or_set(Shared* candidate) {
  Table& t = table();
  std::lock_guard<std::mutex> g(t.mu);
  if (t.root == nullptr) {
    if (candidate == nullptr) return nullptr;
    candidate->retain();  // the slot's own reference (the caller owns one: retain is safe)
    t.root = candidate;
  }
  // Under the table lock the slot's reference keeps the root alive, so retain cannot revive a
  // dead count; the returned reference belongs to the caller.
  t.root->retain();
  return t.root;
}

}  // namespace weft::runtime
