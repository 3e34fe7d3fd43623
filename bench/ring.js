// Baseline: a plain-JavaScript single-producer single-consumer ring queue in a
// SharedArrayBuffer. Indices are free-running int32 counters (capacity is a power of two);
// each side spins briefly, then sleeps with Atomics.wait, and the other side calls
// Atomics.notify only when the sleeper's "waiting" flag is set (Dekker-style: flag store,
// then re-check the index; index store, then check the flag; all SeqCst).

const HEAD = 0, TAIL = 16, PWAIT = 32, CWAIT = 48; // Int32 indices, 64 bytes apart
const CTRL_BYTES = 256;
const SPIN = Number(process.env.BENCH_SAB_SPIN ?? 2000); // spin iterations before Atomics.wait

class Ring {
  /** Allocates the shared state; the returned plain object can go through workerData. */
  static alloc(capacity, extra = {}) {
    if (capacity & (capacity - 1)) throw new RangeError('capacity must be a power of two');
    return { kind: this.name, capacity, ctrl: new SharedArrayBuffer(CTRL_BYTES), ...extra };
  }

  constructor(desc) {
    this.c = new Int32Array(desc.ctrl);
    this.cap = desc.capacity;
    this.mask = desc.capacity - 1;
    this.tail = this.tailSeen = Atomics.load(this.c, TAIL); // producer's own / consumer's view
    this.head = this.headSeen = Atomics.load(this.c, HEAD); // consumer's own / producer's view
  }

  /** Blocks until c[idx] !== val. */
  _awaitChange(idx, val, flag) {
    const c = this.c;
    for (let i = 0; i < SPIN; i++) if (Atomics.load(c, idx) !== val) return;
    Atomics.store(c, flag, 1);
    while (Atomics.load(c, idx) === val) Atomics.wait(c, idx, val);
    Atomics.store(c, flag, 0);
  }

  /** Producer: waits for at least one free slot, returns how many are free. */
  _free() {
    let free = this.cap - ((this.tail - this.headSeen) | 0);
    while (free === 0) {
      this.headSeen = Atomics.load(this.c, HEAD);
      free = this.cap - ((this.tail - this.headSeen) | 0);
      if (free === 0) this._awaitChange(HEAD, this.headSeen, PWAIT);
    }
    return free;
  }

  /** Consumer: waits for at least one value, returns how many are available. */
  _avail() {
    let avail = (this.tailSeen - this.head) | 0;
    while (avail === 0) {
      this.tailSeen = Atomics.load(this.c, TAIL);
      avail = (this.tailSeen - this.head) | 0;
      if (avail === 0) this._awaitChange(TAIL, this.head, CWAIT);
    }
    return avail;
  }

  _publishTail(k) {
    this.tail = (this.tail + k) | 0;
    Atomics.store(this.c, TAIL, this.tail);
    if (Atomics.load(this.c, CWAIT) !== 0) Atomics.notify(this.c, TAIL);
  }

  _publishHead(k) {
    this.head = (this.head + k) | 0;
    Atomics.store(this.c, HEAD, this.head);
    if (Atomics.load(this.c, PWAIT) !== 0) Atomics.notify(this.c, HEAD);
  }

  push(v) {
    this._free();
    this.write(this.tail & this.mask, v);
    this._publishTail(1);
  }

  pop() {
    this._avail();
    const v = this.read(this.head & this.mask);
    this._publishHead(1);
    return v;
  }
}

/** Ring of float64 values, with batch transfer. */
export class F64Ring extends Ring {
  static alloc(capacity) {
    return super.alloc(capacity, { data: new SharedArrayBuffer(capacity * 8) });
  }
  constructor(desc) { super(desc); this.data = new Float64Array(desc.data); }
  write(i, v) { this.data[i] = v; }
  read(i) { return this.data[i]; }

  /** Sends all of src (blocking while full). */
  pushMany(src) {
    for (let off = 0; off < src.length;) {
      const k = Math.min(this._free(), src.length - off);
      const i = this.tail & this.mask, first = Math.min(k, this.cap - i);
      this.data.set(src.subarray(off, off + first), i);
      if (first < k) this.data.set(src.subarray(off + first, off + k), 0);
      off += k;
      this._publishTail(k);
    }
  }

  /** Receives 1..max values (blocking while empty) into a new Float64Array of exactly that many, as recvManySync returns. */
  popManyFresh(max) {
    const dst = new Float64Array(Math.min(this._avail(), max));
    this.popMany(dst);
    return dst;
  }

  /** Receives 1..dst.length values into dst (blocking while empty); returns the count. */
  popMany(dst) {
    const k = Math.min(this._avail(), dst.length);
    const i = this.head & this.mask, first = Math.min(k, this.cap - i);
    dst.set(this.data.subarray(i, i + first), 0);
    if (first < k) dst.set(this.data.subarray(0, k - first), first);
    this._publishHead(k);
    return k;
  }
}

/** Ring of JSON-encoded values in fixed 128-byte UTF-8 slots (the do-it-yourself object queue). */
const SLOT = 128;
const enc = new TextEncoder();
const dec = new TextDecoder();
export class JsonRing extends Ring {
  static alloc(capacity) {
    return super.alloc(capacity, {
      bytes: new SharedArrayBuffer(capacity * SLOT),
      lens: new SharedArrayBuffer(capacity * 4),
    });
  }
  constructor(desc) {
    super(desc);
    this.bytes = new Uint8Array(desc.bytes);
    this.lens = new Int32Array(desc.lens);
  }
  write(i, v) {
    const s = JSON.stringify(v);
    const { read, written } = enc.encodeInto(s, this.bytes.subarray(i * SLOT, i * SLOT + SLOT));
    if (read < s.length) throw new RangeError('value too large for a ring slot');
    this.lens[i] = written;
  }
  read(i) {
    return JSON.parse(dec.decode(this.bytes.subarray(i * SLOT, i * SLOT + this.lens[i])));
  }
}

/**
 * Baseline: a plain-JavaScript multi-producer multi-consumer bounded queue of float64 values
 * (Vyukov's: a sequence stamp per slot, head and tail claimed by CAS), what any thread may send
 * on and receive from, as on a weft channel; with close. No weft code and none of weft's
 * guarantees beyond exactly-once FIFO while every thread lives (a thread terminated between its
 * claim and its publish stalls the queue). Parking: each side spins, then counts itself as a
 * waiter and sleeps on an epoch word that the other side bumps and notifies only when the
 * count is nonzero (the count's increment, then the re-check, against the publish, then the
 * count's load: all SeqCst, so one of the two sees the other).
 */
/** Waits a little before the next look at a contended word (longer each time, up to a cap). */
let sink = 0;
function backoff(spins) {
  for (let k = Math.min(spins, 6), n = 1 << k; n > 0; n--) sink = (sink + n) | 0;
}
const M_HEAD = 0, M_TAIL = 16, M_RWAIT = 32, M_SWAIT = 40, M_REPOCH = 48, M_SEPOCH = 56, M_CLOSED = 60;
export class MpmcF64Ring {
  static alloc(capacity) {
    if (capacity & (capacity - 1)) throw new RangeError('capacity must be a power of two');
    // 16-byte slots: the stamp (int32 at word 0) and the value (float64 at byte 8) share a line.
    const slots = new SharedArrayBuffer(capacity * 16), stamps = new Int32Array(slots);
    for (let i = 0; i < capacity; i++) stamps[i * 4] = i;
    return { kind: 'MpmcF64Ring', capacity, ctrl: new SharedArrayBuffer(CTRL_BYTES), slots };
  }

  constructor(desc) {
    this.c = new Int32Array(desc.ctrl);
    this.st = new Int32Array(desc.slots);
    this.data = new Float64Array(desc.slots);
    this.cap = desc.capacity;
    this.mask = desc.capacity - 1;
  }

  /** Sleeps until the epoch word at `epoch` moves or (closeable) the queue closes, counted in `count`. */
  _park(count, epoch, ready) {
    const c = this.c, e = Atomics.load(c, epoch);
    Atomics.add(c, count, 1);
    if (!ready()) Atomics.wait(c, epoch, e);
    Atomics.sub(c, count, 1);
  }

  _wake(count, epoch) {
    if (Atomics.load(this.c, count) !== 0) {
      Atomics.add(this.c, epoch, 1);
      Atomics.notify(this.c, epoch, 1);
    }
  }

  push(v) {
    const c = this.c, st = this.st, mask = this.mask;
    for (let spins = 0; ; ) {
      const t = Atomics.load(c, M_TAIL), i = t & mask, s = Atomics.load(st, i << 2);
      if (s === t) {
        if (Atomics.compareExchange(c, M_TAIL, t, (t + 1) | 0) !== t) continue;
        this.data[(i << 1) + 1] = v;
        Atomics.store(st, i << 2, (t + 1) | 0);
        this._wake(M_RWAIT, M_REPOCH);
        return;
      }
      if (((s - t) | 0) < 0) { // full: the slot still holds the value of a lap ago
        backoff(spins);
        if (++spins > SPIN) this._park(M_SWAIT, M_SEPOCH, () => Atomics.load(st, (Atomics.load(c, M_TAIL) & mask) << 2) === Atomics.load(c, M_TAIL));
      }
    }
  }

  /** The next value, or undefined once closed and drained. */
  pop() {
    const c = this.c, st = this.st, mask = this.mask;
    for (let spins = 0; ; ) {
      const h = Atomics.load(c, M_HEAD), i = h & mask, s = Atomics.load(st, i << 2);
      if (s === ((h + 1) | 0)) {
        if (Atomics.compareExchange(c, M_HEAD, h, (h + 1) | 0) !== h) continue;
        const v = this.data[(i << 1) + 1];
        Atomics.store(st, i << 2, (h + this.cap) | 0);
        this._wake(M_SWAIT, M_SEPOCH);
        return v;
      }
      if (((s - h - 1) | 0) < 0) { // empty
        if (Atomics.load(c, M_CLOSED) !== 0 && Atomics.load(c, M_TAIL) === h) return undefined;
        backoff(spins);
        if (++spins > SPIN) {
          this._park(M_RWAIT, M_REPOCH, () => Atomics.load(c, M_CLOSED) !== 0 || Atomics.load(st, (Atomics.load(c, M_HEAD) & mask) << 2) === ((Atomics.load(c, M_HEAD) + 1) | 0));
        }
      }
    }
  }

  /** Closes the queue (after the last push): receivers drain it, then get undefined. */
  close() {
    Atomics.store(this.c, M_CLOSED, 1);
    Atomics.add(this.c, M_REPOCH, 1);
    Atomics.notify(this.c, M_REPOCH);
  }
}

const KINDS = { F64Ring, JsonRing, MpmcF64Ring };
/** Wraps a descriptor made by F64Ring.alloc / JsonRing.alloc (in any thread). */
export const openRing = (desc) => new KINDS[desc.kind](desc);
