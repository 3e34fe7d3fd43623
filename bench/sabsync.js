// Baselines for the sync cases: what plain JavaScript can do with a SharedArrayBuffer.
// Both classes mirror the weft API the roles call (lockSync/unlock, add), so one role loop
// measures either.

const SPIN = 100; // tries on a held lock before sleeping in Atomics.wait

/**
 * A futex mutex ("Futexes Are Tricky", mutex 2): 0 free, 1 locked, 2 locked with sleepers.
 * No fairness, no starvation hand-off, no deadlock detection.
 */
export class SabMutex {
  static alloc() {
    return new SharedArrayBuffer(4);
  }

  constructor(sab) {
    this.w = new Int32Array(sab);
  }

  lockSync() {
    const w = this.w;
    let c = Atomics.compareExchange(w, 0, 0, 1);
    if (c === 0) return;
    for (let i = 0; i < SPIN; i++) {
      if (Atomics.load(w, 0) === 0 && (c = Atomics.compareExchange(w, 0, 0, 1)) === 0) return;
    }
    if (c !== 2) c = Atomics.exchange(w, 0, 2);
    while (c !== 0) {
      Atomics.wait(w, 0, 2);
      c = Atomics.exchange(w, 0, 2);
    }
  }

  unlock() {
    const w = this.w;
    if (Atomics.sub(w, 0, 1) !== 1) {
      Atomics.store(w, 0, 0);
      Atomics.notify(w, 0, 1);
    }
  }
}

/** Atomics.add on an Int32Array cell (wraps at 2^31; the baseline checks nothing). */
export class SabCounter {
  static alloc() {
    return new SharedArrayBuffer(4);
  }

  constructor(sab) {
    this.a = new Int32Array(sab);
  }

  add(d) {
    return Atomics.add(this.a, 0, d) + d;
  }
}
