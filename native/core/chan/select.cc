// select.cc — see select.h.
#include "core/chan/select.h"

#include <algorithm>

namespace weft {

uint64_t next_random(uint64_t* s) {
  // xorshift64*: per-thread state, only used to pick a fair order of cases.
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1Dull;
}

namespace {

constexpr int32_t kSmall = 8;

// Fills order[0..n) with a random permutation (Fisher-Yates).
void shuffle(int32_t* order, int32_t n, uint64_t* rng) {
  for (int32_t i = 0; i < n; i++) order[i] = i;
  for (int32_t i = n - 1; i > 0; i--) {
    int32_t j = int32_t(next_random(rng) % uint64_t(i + 1));
    std::swap(order[i], order[j]);
  }
}

struct Order {
  int32_t small[kSmall];
  int32_t* p;
  explicit Order(int32_t n) : p(n <= kSmall ? small : new int32_t[n]) {}
  ~Order() {
    if (p != small) delete[] p;
  }
};

// locked: the caller holds c.ch's lock and completes *wake (a claimed peer) after unlocking.
bool try_one(CaseRec& c, bool locked, SelectOut* out, int32_t i, Waiter** wake = nullptr) {
  if (c.ch == nullptr) return false;  // nil case
  Channel::Res r;
  uint64_t v = 0;
  if (c.is_send) {
    r = locked ? c.ch->try_send_locked(c.val, wake) : c.ch->try_send(c.val);
    if (r == Channel::Res::kOk) c.val = 0;  // moved into the channel
  } else {
    r = locked ? c.ch->try_recv_locked(&v, wake) : c.ch->try_recv(&v);
  }
  if (r == Channel::Res::kWouldBlock) return false;
  out->index = i;
  out->res = r;
  out->val = v;
  return true;
}

// Distinct channels of the cases, sorted by address (the global lock order).
struct LockSet {
  Channel* small[kSmall];
  Channel** p;
  int32_t n = 0;
  LockSet(CaseRec* recs, int32_t count) : p(count <= kSmall ? small : new Channel*[count]) {
    for (int32_t i = 0; i < count; i++)
      if (recs[i].ch != nullptr) p[n++] = recs[i].ch;
    std::sort(p, p + n);
    n = int32_t(std::unique(p, p + n) - p);
  }
  ~LockSet() {
    if (p != small) delete[] p;
  }
  void lock() {
    for (int32_t i = 0; i < n; i++) p[i]->lock();
  }
  void unlock() {
    for (int32_t i = n - 1; i >= 0; i--) p[i]->unlock();
  }
};

}  // namespace

bool select_try(CaseRec* recs, int32_t n, uint64_t* rng, SelectOut* out) {
  if (n == 1) return try_one(recs[0], false, out, 0);
  Order order(n);
  shuffle(order.p, n, rng);
  for (int32_t k = 0; k < n; k++) {
    int32_t i = order.p[k];
    if (try_one(recs[i], false, out, i)) return true;
  }
  return false;
}

bool select_register(Waiter* w, CaseRec* recs, int32_t n, uint64_t* rng, SelectOut* out) {
  w->cases = recs;
  w->ncases = n;
  LockSet locks(recs, n);
  locks.lock();
  Order order(n);
  shuffle(order.p, n, rng);
  Waiter* wake = nullptr;
  for (int32_t k = 0; k < n; k++) {
    int32_t i = order.p[k];
    if (try_one(recs[i], true, out, i, &wake)) {
      locks.unlock();
      if (wake != nullptr) complete(wake);
      return false;
    }
  }
  w->reset();
  // Queue in the random order too: a peer pairs with the first record it finds, so two cases
  // on one channel must not always be found in case order.
  for (int32_t k = 0; k < n; k++) {
    int32_t i = order.p[k];
    recs[i].w = w;
    recs[i].index = i;
    if (recs[i].ch != nullptr) recs[i].ch->enqueue_locked(&recs[i]);
  }
  // Buffered rings move values without the lock, so re-check them now that we are queued: a
  // peer's ring operation either precedes our seq_cst increment of the waiting count (then
  // this re-check sees its effect) or follows it (then the peer sees us waiting and notifies).
  // Rendezvous cases need no re-check: their peers take the locks we hold. While re-checking,
  // our own state is kCanceled so that a notification our own send triggers cannot claim us;
  // nobody else can claim us while we hold every lock.
  w->state.store(kCanceled, std::memory_order_relaxed);
  for (int32_t k = 0; k < n; k++) {
    int32_t i = order.p[k];
    if (recs[i].ch == nullptr || !recs[i].ch->buffered()) continue;
    if (try_one(recs[i], true, out, i, &wake)) {
      for (int32_t j = 0; j < n; j++)
        if (recs[j].ch != nullptr) recs[j].ch->dequeue_locked(&recs[j]);
      locks.unlock();
      if (wake != nullptr) complete(wake);
      return false;
    }
  }
  w->state.store(kWaiting, std::memory_order_relaxed);
  locks.unlock();
  return true;
}

void select_unlink(Waiter* w) {
  // The record a peer claimed was unlinked by that peer before it completed us (its
  // queued = false is visible through the completion's release/acquire): no lock needed.
  int32_t claimed = w->state.load(std::memory_order_acquire);
  for (int32_t i = 0; i < w->ncases; i++) {
    CaseRec& c = w->cases[i];
    if (c.ch == nullptr || i == claimed) continue;
    // Reading `queued` needs the lock: a peer may be unlinking the record right now.
    c.ch->lock();
    c.ch->dequeue_locked(&c);
    c.ch->unlock();
  }
}

bool select_finish(Waiter* w, uint64_t* rng, SelectOut* out) {
  // acquire: pairs with the claimer's acq_rel claim CAS (which case won); the CaseRec's
  // outcome/val were published by complete()'s release (or the inbox lock) before we got here.
  int32_t k = w->state.load(std::memory_order_acquire);
  select_unlink(w);
  CaseRec& c = w->cases[k];
  switch (c.outcome) {
    case Outcome::kHandoff:
      out->index = k;
      out->res = Channel::Res::kOk;
      out->val = c.is_send ? 0 : c.val;  // recv: the caller owns it now
      c.val = 0;                          // send: the receiver owns it now
      return true;
    case Outcome::kClosed:
      out->index = k;
      out->res = Channel::Res::kClosed;
      out->val = 0;
      return true;
    case Outcome::kNotify:
    case Outcome::kNone:
      break;
  }
  // Notified: the case that woke us first, then any case.
  if (try_one(c, false, out, k)) return true;
  return select_try(w->cases, w->ncases, rng, out);
}

void select_abandon_claim(Waiter* w) {
  // acquire: pairs with the claim CAS, as in select_finish (k < 0: nobody claimed it).
  int32_t k = w->state.load(std::memory_order_acquire);
  if (k < 0) return;
  CaseRec& c = w->cases[k];
  switch (c.outcome) {
    case Outcome::kHandoff:
      // A receive that was handed a value: the value goes back. A send whose value was taken
      // simply happened.
      if (!c.is_send) c.ch->give_back(c.val);
      c.val = 0;
      break;
    case Outcome::kNotify:
      c.ch->forward_notify(c.is_send);
      break;
    default:
      break;
  }
}

namespace {
// Optimistic retry before queueing, for buffered cases only: a rendezvous needs the peer to
// find us queued, so spinning unqueued would only delay it.
constexpr uint64_t kTrySpinNs = 3'000;
constexpr int kTryMaxShift = 4;  // at most 16 pauses between two tries
constexpr size_t kRoomRun = 32;   // the most free slots a spinning lone send waits for
constexpr int kTryYields = 2;
}  // namespace

WaitStatus select_block(Waiter* w, CaseRec* recs, int32_t n, bool spin, uint64_t deadline_ns,
                        StopProbe probe, void* probe_arg, uint64_t* rng, SelectOut* out,
                        uint64_t* spin_ns, const ParkHook* hook) {
  w->async = false;
  bool any_buffered = false;
  for (int32_t i = 0; i < n; i++)
    if (recs[i].ch != nullptr && recs[i].ch->buffered()) any_buffered = true;
  if (spin && any_buffered) {
    if (select_try(recs, n, rng, out)) return WaitStatus::kDone;  // ready now: no clock read
    uint64_t until = now_ns() + kTrySpinNs;
    // A lone send that found its ring full waits, while it spins, for a run of free slots
    // (an eighth of the ring, at most kRoomRun) instead of taking each slot the moment the
    // receiver frees it: slot by slot, sender and receiver work on the same lines at the
    // same time and every line moves between them once per value. Only the spin waits so;
    // once it registers, one free slot is enough, as always (so does a close: a full ring
    // closed meanwhile is noticed at the first try after the spin, within kTrySpinNs).
    Channel* lone = n == 1 && recs[0].is_send && recs[0].ch != nullptr && recs[0].ch->buffered()
                        ? recs[0].ch
                        : nullptr;
    size_t run = lone != nullptr ? std::min<size_t>(lone->capacity() / 8, kRoomRun) : 0;
    // A lone receive that found its ring empty, likewise, lets a run of values build up while
    // values keep arriving (the fill grew since the last look), instead of taking each value
    // the moment it is published; a fill that stopped growing (one value, or a sender that
    // paused) is taken at once, so a lone value waits one look longer, not a whole spin.
    Channel* lone_recv = n == 1 && !recs[0].is_send && recs[0].ch != nullptr &&
                                 recs[0].ch->buffered()
                             ? recs[0].ch
                             : nullptr;
    size_t want = lone_recv != nullptr ? std::min<size_t>(lone_recv->capacity() / 8, kRoomRun) : 0;
    size_t last_fill = 0;
    // The head at the receive's last look (published_hint); ~0 is no head (the mark bit, set
    // only in the tail, is set in it), so the first look counts from 0.
    uint32_t at_head = ~0u;
    for (int i = 0;; i++) {
      // Exponential backoff between looks (1, 2, 4 ... 16 pauses): each look reads slot
      // stamps and each try the ring's hot words (tail, head, a stamp), and polling them back
      // to back takes their lines away from the peer that is about to make room (or a value)
      // for us, slowing it.
      for (int k = 0, m = 1 << std::min(i, kTryMaxShift); k < m; k++) cpu_relax();
      bool late = (i & 3) == 3 && now_ns() >= until;
      bool attempt = true;
      if (run > 1) {
        attempt = lone->run_free_hint(run);
      } else if (want > 1) {
        // published_hint() reads relaxed stamps (ring_peek.cc): the fill only decides when to
        // try; select_try's acquire stamp loads and seq_cst CASes decide what is taken. A
        // stale fill costs one look.
        size_t fill = lone_recv->published_hint(last_fill, want, &at_head);
        // Nothing there: a try would only read the slot the sender is about to write (a
        // closed channel is the exception: its try reports the close; closed() is an acquire
        // load of the tail's mark bit, pairing with ring_close()'s seq_cst fetch_or).
        attempt = fill == 0 ? lone_recv->closed() : fill >= want || fill <= last_fill;
        last_fill = fill;
      }
      // A receive waiting for a run takes what is there before its spin ends. (A send waiting
      // for room does not: it yields below first, which lets the receiver run when threads
      // outnumber cores; measured, taking a slot here instead made selectSync fed by two
      // producers 20% slower, 234/243 against 195/200 ns per value.)
      if ((attempt || (late && want > 1)) && select_try(recs, n, rng, out))
        return WaitStatus::kDone;
      if (late) break;
    }
    for (int i = 0; i < kTryYields; i++) {
      thread_yield();
      if (select_try(recs, n, rng, out)) return WaitStatus::kDone;
    }
  }
  for (;;) {
    if (!select_register(w, recs, n, rng, out)) return WaitStatus::kDone;
    if (hook != nullptr) hook->fn(hook->arg, true);
    uint64_t parked_at = now_ns();
    bool completed = park(w, deadline_ns, probe, probe_arg, spin_ns);
    if (hook != nullptr) hook->fn(hook->arg, false);
    // A thread asleep in park() notices Worker.terminate() only at its next probe slice (20 ms),
    // so a peer may complete it in between: a value handed to it would reach JavaScript that
    // can no longer run, and vanish (DESIGN.md fact 6). After a wait long enough to have slept,
    // ask once more; a thread being torn down gives the value back and the notification on.
    // (After a short, spinning wait the probe, a JS call, would cost more than the wait.) The
    // claimed case is ours alone: complete() published it with release, park() read the word
    // with acquire, so select_abandon_claim sees the claimer's writes.
    if (completed && probe != nullptr && now_ns() - parked_at > kSpinMaxNs && probe(probe_arg)) {
      select_unlink(w);
      select_abandon_claim(w);
      return WaitStatus::kStopped;
    }
    if (!completed) {
      bool stopped = deadline_ns == 0 || now_ns() < deadline_ns;
      if (w->try_cancel()) {
        select_unlink(w);
        return stopped ? WaitStatus::kStopped : WaitStatus::kTimeout;
      }
      // A peer claimed us at the last moment; its completion is on the way.
      await_completion(w);
      if (stopped) {
        select_unlink(w);
        select_abandon_claim(w);
        return WaitStatus::kStopped;
      }
      // acquire: pairs with the claim CAS; await_completion's acquire published the CaseRec.
      int32_t k = w->state.load(std::memory_order_acquire);
      if (w->cases[k].outcome == Outcome::kNotify) {
        select_unlink(w);
        if (try_one(w->cases[k], false, out, k)) return WaitStatus::kDone;
        return WaitStatus::kTimeout;
      }
    }
    if (select_finish(w, rng, out)) return WaitStatus::kDone;
    if (deadline_ns != 0 && now_ns() >= deadline_ns) return WaitStatus::kTimeout;
  }
}

}  // namespace weft
