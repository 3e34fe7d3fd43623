// tasks.h — the process-wide table of go() tasks and the runtime's root slot (Node-free).
//
// Every task that go() starts is recorded here from the moment it is queued until its result
// was sent back, whichever thread started it and whichever pool thread runs it. The table is
// what dump() lists, and what the pool manager reads to fail the tasks of a pool thread that
// died (each record keeps a reference to the channel its result goes to, so the manager can
// send the failure without knowing the submitter). The root slot is one process-global
// object through which every thread finds the same pool (lib/runtime/pool.ts).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/shared.h"

namespace weft::runtime {

enum class TaskState : int32_t { kQueued = 0, kRunning = 1 };

struct TaskInfo {
  uint64_t id;
  uint64_t pool;
  std::string name;  // "module#export"
  uint64_t thread;   // 0 while queued
  TaskState state;
  uint64_t since_ns;  // queued at / started at (CLOCK_MONOTONIC)
};

// Task names ("module#export") are interned: a submitter asks once per name and passes the id
// with each task (and pool threads ask for the name once per id), so a task carries no string.
// Ids start at 1 and are never reused; the table only grows (one entry per distinct name).
// `split` is where the module ends in `name` (the '#' at name[split]; a module URL or an
// export name may contain '#' too, so readers split there, not at a search).
uint32_t name_intern(const std::string& name, size_t split);
// The interned name, or "" for an unknown id; *split (if given) receives its split position.
std::string name_of(uint32_t id, size_t* split = nullptr);

// Records a queued task of `pool` named by `name` (an id from name_intern); adopts one
// reference to `reply` (released when the task ends or is claimed). Returns the task's
// process-unique id (from 1, never reused).
uint64_t task_add(uint64_t pool, uint32_t name, Shared* reply);
// Same, interning `name` first.
uint64_t task_add(uint64_t pool, const std::string& name, Shared* reply);
// The task started on `thread`; false if it is no longer in the table (claimed: failed by the
// pool manager, whose failure already went to the submitter).
bool task_run(uint64_t id, uint64_t thread);
// The task's reply channel with one new reference for the caller, or nullptr if the task is
// not in the table.
Shared* task_reply(uint64_t id);
// The task ended (its result was sent); false if it was not in the table.
bool task_end(uint64_t id);
// Copies of every record, for dump().
std::vector<TaskInfo> task_list();
// Removes the tasks of `pool` that run on `thread` (or, with thread == 0, every task of the
// pool, queued ones included) and returns their ids with their reply channel (one reference
// each, now owned by the caller).
std::vector<std::pair<uint64_t, Shared*>> task_claim(uint64_t pool, uint64_t thread);
// Number of tasks of `pool` in the table (queued or running).
size_t task_count(uint64_t pool);
// Number of tasks in the table, all pools (O(1); may lag a concurrent add or end).
int64_t task_total();

// The root slot: returns the root object with one reference for the caller. The first call
// installs `candidate` (taking one reference of its own, kept until the process exits); later
// calls ignore `candidate`.
Shared* root_get_or_set(Shared* candidate);

}  // namespace weft::runtime
