// waitq.h — wait queues of the sync primitives (Mutex, RWMutex, WaitGroup, Cond, Semaphore,
// Once): the same claim-once Waiter as channels (parker.h), with a record per blocked call.
//
// A primitive keeps its SyncRecs in a FIFO under its own internal lock. To wake a waiter it
// claims the Waiter (CAS), sets the record's outcome, unlinks it and completes it: a Sync
// caller is woken by futex, an async caller through its thread's inbox. A waiter that gives up
// (timeout, abort, thread exit) cancels its Waiter first; if a claim won that race, the grant
// it carries (a lock handed over, permits) is given back with abandon(), so nothing leaks.
#pragma once

#include <cstdint>

#include "core/park/parker.h"
#include "core/shared.h"

namespace weft {

enum class Grant : uint8_t {
  kNone = 0,
  kGranted,  // the waiter now owns what it asked for (lock, read lock, permits)
  kRetry,    // something changed: try again (a normal-mode mutex wake-up)
  kDone,     // the event it waited for happened (WaitGroup zero, Cond signal, Once done)
};

struct SyncRec {
  Waiter* w = nullptr;
  SyncRec* prev = nullptr;  // links, guarded by the primitive's lock
  SyncRec* next = nullptr;
  bool queued = false;      // guarded by the primitive's lock
  int64_t n = 1;            // semaphore weight; RWMutex: 1 writer, 0 reader
  uint64_t since_ns = 0;    // when it first queued (mutex starvation mode, dump())
  uint64_t thread = 0;      // waiting thread (deadlock detection, dump())
  Grant grant = Grant::kNone;  // written by the claimer before completion
};

struct SyncQueue {
  SyncRec* head = nullptr;
  SyncRec* tail = nullptr;
  size_t size = 0;
  void push_back(SyncRec* r) {
    r->next = nullptr;
    r->prev = tail;
    if (tail) tail->next = r; else head = r;
    tail = r;
    r->queued = true;
    size++;
  }
  void push_front(SyncRec* r) {
    r->prev = nullptr;
    r->next = head;
    if (head) head->prev = r; else tail = r;
    head = r;
    r->queued = true;
    size++;
  }
  void remove(SyncRec* r) {
    if (!r->queued) return;
    if (r->prev) r->prev->next = r->next; else head = r->next;
    if (r->next) r->next->prev = r->prev; else tail = r->prev;
    r->prev = r->next = nullptr;
    r->queued = false;
    size--;
  }
  // Queues a waiter that could not take the resource: stamps when it first queued (a record
  // re-queued after a kRetry wake-up keeps its stamp) and links it at the back, or at the front
  // (a woken mutex waiter that lost the race).
  void enqueue(SyncRec* r, bool front = false) {
    if (r->since_ns == 0) r->since_ns = now_ns();
    if (front) push_front(r); else push_back(r);
  }
  // Unlinks r and claims its Waiter for outcome g. false: its owner gave up first (its cancel
  // CAS won; it unlinks nothing more, the record is just dropped). The acq_rel claim CAS pairs
  // with the owner's cancel CAS in Waiter::try_cancel; `grant` is written before the caller's
  // complete() (release), which publishes it to the woken owner.
  bool claim(SyncRec* r, Grant g) {
    remove(r);
    if (!r->w->try_claim_index(0)) return false;
    r->grant = g;
    return true;
  }
  // Claims and unlinks the first waiter still waiting (stale records are dropped); null if none.
  SyncRec* claim_front(Grant g) {
    while (SyncRec* r = head) {
      if (claim(r, g)) return r;
    }
    return nullptr;
  }
  // Claims and completes every waiter still waiting, with outcome g (WaitGroup zero, Cond
  // broadcast, Once finished or its runner gone). Called under the primitive's lock.
  void wake_all(Grant g) {
    while (SyncRec* r = claim_front(g)) complete(r->w);
  }
};

// A primitive with a wait queue. unlink() and abandon() are called without its lock held.
class SyncPrim : public Shared {
 public:
  using Shared::Shared;
  virtual void unlink(SyncRec* r) = 0;
  // The owner of a claimed record will never act on it (it gave up or its thread exited).
  virtual void abandon(SyncRec* r) = 0;
};

}  // namespace weft
