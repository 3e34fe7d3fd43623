// tasks.cc — see tasks.h.
#include "core/runtime/tasks.h"

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/park/parker.h"

namespace weft::runtime {
namespace {

struct Rec {
  uint64_t pool;
  uint32_t name;  // name_intern id
  uint64_t thread;
  TaskState state;
  uint64_t since_ns;
  Shared* reply;  // one owned reference
};

// The records are spread over shards by id, each with its own mutex: a task's add, run and end
// run on different threads (submitter, pool thread, pool thread), and with one lock for all a
// lock holder preempted on a busy machine stalls every other thread's go() (a lock convoy).
// Every operation on one task takes the lock of that task's shard only; the scans (list,
// claim, count) take the shards one after the other, so they see each shard consistently but
// not the whole table at one instant (enough for diagnostics and for the manager, which
// rescans).
struct Shard {
  std::mutex mu;
  std::unordered_map<uint64_t, Rec> recs;  // guarded by mu
};

constexpr size_t kShards = 16;

struct Table {
  Shard shards[kShards];
  // Ids only need to be unique: relaxed is enough (no data is published through the counter).
  std::atomic<uint64_t> next_id{1};
  // Records in all shards. Relaxed: only a hint for the manager's "keep the process alive"
  // decision, which it re-reads every few ms (a stale value delays that by one poll).
  std::atomic<int64_t> total{0};
  std::mutex root_mu;
  Shared* root = nullptr;  // guarded by root_mu; an owned reference, never dropped
  std::mutex names_mu;
  std::vector<std::pair<std::string, size_t>> names;  // guarded by names_mu; id = index + 1
  std::unordered_map<std::string, uint32_t> name_ids;  // guarded by names_mu
  Shard& shard(uint64_t id) { return shards[id % kShards]; }
};

Table& table() {
  static Table* t = new Table();  // never destroyed: pool threads may still use it at exit
  return *t;
}

}  // namespace

uint32_t name_intern(const std::string& name, size_t split) {
  Table& t = table();
  // The key includes the split, so "a#b" + "#c" and "a" + "#b#c" stay two names.
  std::string key = std::to_string(split) + ":" + name;
  std::lock_guard<std::mutex> g(t.names_mu);
  auto it = t.name_ids.find(key);
  if (it != t.name_ids.end()) return it->second;
  t.names.emplace_back(name, split);
  uint32_t id = uint32_t(t.names.size());
  t.name_ids.emplace(std::move(key), id);
  return id;
}

std::string name_of(uint32_t id, size_t* split) {
  Table& t = table();
  std::lock_guard<std::mutex> g(t.names_mu);
  if (id < 1 || id > t.names.size()) return std::string();
  if (split != nullptr) *split = t.names[id - 1].second;
  return t.names[id - 1].first;
}

uint64_t task_add(uint64_t pool, const std::string& name, Shared* reply) {
  size_t hash = name.rfind('#');
  return task_add(pool, name_intern(name, hash == std::string::npos ? name.size() : hash), reply);
}

uint64_t task_add(uint64_t pool, uint32_t name, Shared* reply) {
  Table& t = table();
  uint64_t now = now_ns();
  uint64_t id = t.next_id.fetch_add(1, std::memory_order_relaxed);
  Shard& sh = t.shard(id);
  std::lock_guard<std::mutex> g(sh.mu);
  sh.recs.emplace(id, Rec{pool, name, 0, TaskState::kQueued, now, reply});
  t.total.fetch_add(1, std::memory_order_relaxed);
  return id;
}

bool task_run(uint64_t id, uint64_t thread) {
  Table& t = table();
  uint64_t now = now_ns();
  Shard& sh = t.shard(id);
  std::lock_guard<std::mutex> g(sh.mu);
  auto it = sh.recs.find(id);
  if (it == sh.recs.end()) return false;
  it->second.thread = thread;
  it->second.state = TaskState::kRunning;
  it->second.since_ns = now;
  return true;
}

Shared* task_reply(uint64_t id) {
  Table& t = table();
  Shard& sh = t.shard(id);
  std::lock_guard<std::mutex> g(sh.mu);
  auto it = sh.recs.find(id);
  if (it == sh.recs.end()) return nullptr;
  // The record owns a reference and is only erased under this lock, so the count is > 0.
  it->second.reply->retain();
  return it->second.reply;
}

bool task_end(uint64_t id) {
  Table& t = table();
  Shared* reply = nullptr;
  {
    Shard& sh = t.shard(id);
    std::lock_guard<std::mutex> g(sh.mu);
    auto it = sh.recs.find(id);
    if (it == sh.recs.end()) return false;
    reply = it->second.reply;
    sh.recs.erase(it);
    t.total.fetch_sub(1, std::memory_order_relaxed);
  }
  // Outside the lock: the last release destroys the channel (and may wake watchers).
  if (reply != nullptr) reply->release();
  return true;
}

std::vector<TaskInfo> task_list() {
  Table& t = table();
  std::vector<TaskInfo> out;
  std::vector<uint32_t> names;
  for (Shard& sh : t.shards) {
    std::lock_guard<std::mutex> g(sh.mu);
    for (const auto& [id, r] : sh.recs) {
      out.push_back(TaskInfo{id, r.pool, std::string(), r.thread, r.state, r.since_ns});
      names.push_back(r.name);
    }
  }
  // Names after the shard locks (never both locks at once).
  for (size_t i = 0; i < out.size(); i++) out[i].name = name_of(names[i]);
  return out;
}

std::vector<std::pair<uint64_t, Shared*>> task_claim(uint64_t pool, uint64_t thread) {
  Table& t = table();
  std::vector<std::pair<uint64_t, Shared*>> out;
  for (Shard& sh : t.shards) {
    std::lock_guard<std::mutex> g(sh.mu);
    for (auto it = sh.recs.begin(); it != sh.recs.end();) {
      if (it->second.pool == pool && (thread == 0 || it->second.thread == thread)) {
        out.emplace_back(it->first, it->second.reply);  // the reference moves to the caller
        it = sh.recs.erase(it);
        t.total.fetch_sub(1, std::memory_order_relaxed);
      } else {
        ++it;
      }
    }
  }
  return out;
}

size_t task_count(uint64_t pool) {
  Table& t = table();
  size_t n = 0;
  for (Shard& sh : t.shards) {
    std::lock_guard<std::mutex> g(sh.mu);
    for (const auto& [id, r] : sh.recs) n += r.pool == pool ? 1 : 0;
  }
  return n;
}

int64_t task_total() { return table().total.load(std::memory_order_relaxed); }

Shared* root_get_or_set(Shared* candidate) {
  Table& t = table();
  std::lock_guard<std::mutex> g(t.root_mu);
  if (t.root == nullptr) {
    if (candidate == nullptr) return nullptr;
    candidate->retain();  // the slot's own reference (the caller owns one: retain is safe)
    t.root = candidate;
  }
  // Under root_mu the slot's reference keeps the root alive, so retain cannot revive a
  // dead count; the returned reference belongs to the caller.
  t.root->retain();
  return t.root;
}

}  // namespace weft::runtime
