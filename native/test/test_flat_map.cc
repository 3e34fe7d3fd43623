// test_flat_map.cc — FlatMap (core/flat_map.h), behind the per-thread handle counts, against
// std::unordered_map over random inserts, erases and erase_if: the same
// entries through growth, backward-shift deletion (wrapping past the array's end) and shrinking.
#include <random>
#include <unordered_map>

#include "core/flat_map.h"
#include "harness.h"

namespace wt {
namespace {

struct Obj {
  uint64_t pad[2];
};

// Integer keys hashed by identity: the worst case for linear probing (a window of consecutive
// keys is one run of full slots), which every deletion must get right.
struct Identity {
  size_t operator()(uint64_t k) const { return size_t(k); }
};

// Compares m with ref entry by entry, both ways.
template <typename M, typename K>
void same(M& m, std::unordered_map<K, int64_t>& ref) {
  CHECK(m.size() == ref.size());
  for (auto& [k, v] : ref) {
    int64_t* got = m.find(k);
    CHECK(got != nullptr && *got == v);
  }
  size_t seen = 0;
  m.for_each([&](K k, int64_t& v) {
    auto it = ref.find(k);
    CHECK(it != ref.end() && it->second == v);
    seen++;
  });
  CHECK(seen == ref.size());
}

// Random rounds of inserts (a key drawn by `key`), erases and an erase_if, checked against ref.
template <typename M, typename K, typename Draw>
void churn(M& m, std::unordered_map<K, int64_t>& ref, Draw key, std::mt19937_64& rng) {
  for (int round = 0; round < 40; round++) {
    int adds = round % 2 == 0 ? 20000 : 2000;  // growing and shrinking phases
    int erases = round % 2 == 0 ? 2000 : 30000;
    for (int i = 0; i < adds; i++) {
      K k = key(rng);
      int64_t* v = m.get_or_insert(k, 0);
      CHECK(v != nullptr);
      ++*v;
      ref[k]++;
    }
    for (int i = 0; i < erases; i++) {
      K k = key(rng);
      int64_t out = -1;
      auto it = ref.find(k);
      bool had = it != ref.end();
      CHECK(m.erase(k, &out) == had);
      if (had) {
        CHECK(out == it->second);
        ref.erase(it);
      }
    }
    if (round % 5 == 4) {
      // erase_if: every entry whose count is odd.
      size_t want = 0;
      for (auto& [k, v] : ref) want += v % 2;
      size_t got = 0;
      m.erase_if([&](K, int64_t& v) {
        if (v % 2 == 0) return false;
        got++;
        return true;
      });
      CHECK(got == want);
      for (auto it = ref.begin(); it != ref.end();) it = it->second % 2 ? ref.erase(it) : std::next(it);
    }
    same(m, ref);
  }
  for (auto& [k, v] : ref) CHECK(m.erase(k));
  ref.clear();
  CHECK(m.empty());
}

TEST(flat_map_pointer_keys_match_a_map) {
  std::mt19937_64 rng(seed_for(1));
  // Addresses from one array, so keys collide in their home slots as real objects do.
  std::vector<Obj> pool(5000);
  weft::FlatMap<Obj*, int64_t, weft::PtrHash> m;
  std::unordered_map<Obj*, int64_t> ref;
  churn(m, ref, [&](std::mt19937_64& r) { return &pool[r() % pool.size()]; }, rng);
  CHECK(m.find(&pool[0]) == nullptr);
  CHECK(!m.erase(&pool[0]));
}

TEST(flat_map_sequential_ids_match_a_map) {
  std::mt19937_64 rng(seed_for(2));
  // Sequential keys hashed by identity, most of them in a sliding window and a few far behind,
  // so runs of full slots are long and wrap around the array's end.
  weft::FlatMap<uint64_t, int64_t, Identity> m;
  std::unordered_map<uint64_t, int64_t> ref;
  uint64_t next = 1;
  churn(m, ref, [&](std::mt19937_64& r) {
    next++;
    uint64_t back = r() % 8 == 0 ? r() % 100000 : r() % 3000;
    uint64_t seq = next > back ? next - back : 1;
    return seq;
  }, rng);
}

}  // namespace
}  // namespace wt
