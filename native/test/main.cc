// main.cc — runner for the native stress tests.
//
//   stress --list        print the test names, one a line
//   stress NAME...       run the named tests (all of them when none is given)
//
// Prints "PASS name (ms)" per test and "N passed, M failed" at the end. A failing CHECK or a
// sanitizer report ends the process at once (non-zero status); a hang ends it with status 3.
#include <condition_variable>
#include <mutex>

#include "harness.h"

namespace {

struct Watchdog {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  const char* current = "";
  std::thread t;

  void start() {
    t = std::thread([this] {
      std::unique_lock<std::mutex> g(mu);
      uint64_t last = wt::progress_counter().load();
      auto last_change = std::chrono::steady_clock::now();
      while (!stop) {
        cv.wait_for(g, std::chrono::milliseconds(100));
        uint64_t now = wt::progress_counter().load();
        auto t = std::chrono::steady_clock::now();
        if (now != last) {
          last = now;
          last_change = t;
        } else if (t - last_change > std::chrono::seconds(wt::kHangSeconds)) {
          std::fprintf(stderr, "HANG: test %s made no progress for %d s (lost wake-up?)\n",
                       current, wt::kHangSeconds);
          std::fflush(stderr);
          std::_Exit(3);
        }
      }
    });
  }
  void set(const char* name) {
    std::lock_guard<std::mutex> g(mu);
    current = name;
    wt::progress();
  }
  void finish() {
    {
      std::lock_guard<std::mutex> g(mu);
      stop = true;
    }
    cv.notify_all();
    t.join();
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  auto& all = wt::tests();
  if (argc > 1 && std::strcmp(argv[1], "--list") == 0) {
    for (auto& tc : all) std::printf("%s\n", tc.name);
    return 0;
  }
  std::vector<const wt::TestCase*> run;
  if (argc == 1) {
    for (auto& tc : all) run.push_back(&tc);
  } else {
    for (int i = 1; i < argc; i++) {
      const wt::TestCase* found = nullptr;
      for (auto& tc : all)
        if (std::strcmp(tc.name, argv[i]) == 0) found = &tc;
      if (found == nullptr) {
        std::fprintf(stderr, "unknown test: %s\n", argv[i]);
        return 2;
      }
      run.push_back(found);
    }
  }
  Watchdog wd;
  wd.start();
  int passed = 0;
  for (const wt::TestCase* tc : run) {
    wd.set(tc->name);
    auto t0 = std::chrono::steady_clock::now();
    tc->fn();  // a failure exits the process
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
    std::printf("PASS %s (%lld ms)\n", tc->name, static_cast<long long>(ms));
    passed++;
  }
  wd.finish();
  std::printf("%d passed, 0 failed\n", passed);
  return 0;
}
