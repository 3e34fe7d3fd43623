// test_ptr_counts.cc — PtrCounts (core/ptr_counts.h), the per-thread handle counts behind
// the deadlock check, against std::unordered_map over random adds and drops: same counts,
// same set, through growth, backward-shift deletion and shrinking.
#include <random>
#include <unordered_map>

#include "core/ptr_counts.h"
#include "harness.h"

namespace wt {
namespace {

struct Obj {
  uint64_t pad[2];
};

TEST(ptr_counts_matches_a_map) {
  std::mt19937_64 rng(seed_for(1));
  // Addresses from one array, so keys collide in their home slots as real objects do.
  std::vector<Obj> pool(5000);
  weft::PtrCounts<Obj> pc;
  std::unordered_map<Obj*, int64_t> ref;
  for (int round = 0; round < 40; round++) {
    // Alternate growing and shrinking phases.
    int adds = round % 2 == 0 ? 20000 : 2000;
    int drops = round % 2 == 0 ? 2000 : 30000;
    for (int i = 0; i < adds; i++) {
      Obj* k = &pool[rng() % pool.size()];
      CHECK(pc.add(k));
      ref[k]++;
    }
    for (int i = 0; i < drops; i++) {
      Obj* k = &pool[rng() % pool.size()];
      auto it = ref.find(k);
      bool had = it != ref.end();
      CHECK(pc.drop(k) == had);
      if (had && --it->second == 0) ref.erase(it);
    }
    CHECK(pc.size() == ref.size());
    for (auto& [k, n] : ref) CHECK(pc.get(k) == n);
    size_t seen = 0;
    pc.for_each([&](Obj* k, int64_t n) {
      auto it = ref.find(k);
      CHECK(it != ref.end() && it->second == n);
      seen++;
    });
    CHECK(seen == ref.size());
  }
  for (auto& [k, n] : ref)
    for (int64_t i = 0; i < n; i++) CHECK(pc.drop(k));
  CHECK(pc.empty());
  CHECK(pc.get(&pool[0]) == 0);
  CHECK(!pc.drop(&pool[0]));
}

}  // namespace
}  // namespace wt
