/**
 * The table of unsettled tasks one thread keeps for `go()` (lib/runtime/pool.ts): what it needs
 * to settle each task when its outcome comes back.
 * @internal
 * @module
 */
/** A task this thread started and has not settled yet. */
export interface Pending {
  /** The task's id (its Task's `id`). */
  id: number;
  /** Settles the task's promise with its result. */
  resolve: (v: unknown) => void;
  /** Rejects it with the task's error. */
  reject: (e: unknown) => void;
  /** The go() call site (an Error), appended to the stack of a failed task. */
  site: { stack?: string };
}

/** The smallest slot array of a {@link PendingTable} (a power of two). */
const PENDING_MIN = 1024;

/**
 * This thread's unsettled tasks, by id. Ids come from one process-wide counter, so the tasks
 * one thread starts have increasing ids, and a burst of them lands in distinct slots of an
 * array indexed by the id's low bits; a slot still held by an older task sends the newcomer
 * to a Map. A Map alone cost a burst of 100,000 tasks about 1 µs per task in hashing and
 * in growing and shrinking its table (perf: MapPrototypeSet, FindOrderedHashMapEntry,
 * Runtime_MapGrow, Runtime_MapShrink on the submitting thread).
 */
export class PendingTable {
  private slots: (Pending | undefined)[] = new Array<Pending | undefined>(PENDING_MIN).fill(undefined);
  private mask = PENDING_MIN - 1;
  private readonly spill = new Map<number, Pending>();
  /** Tasks held. */
  size = 0;

  /** Holds `p` until {@link take} takes it. */
  add(p: Pending): void {
    if (this.size >= this.slots.length >> 1) this.resize(this.slots.length << 1);
    const i = p.id & this.mask; // ToInt32 keeps the low 32 bits of any id below 2^53
    if (this.slots[i] === undefined) this.slots[i] = p;
    else this.spill.set(p.id, p);
    this.size++;
  }

  /** Removes and returns the task `id`, if this thread still holds it. */
  take(id: number): Pending | undefined {
    const i = id & this.mask;
    let p = this.slots[i];
    if (p !== undefined && p.id === id) this.slots[i] = undefined;
    else {
      p = this.spill.get(id);
      if (p === undefined) return undefined;
      this.spill.delete(id);
    }
    if (--this.size === 0 && this.slots.length > PENDING_MIN) this.resize(PENDING_MIN);
    return p;
  }

  private resize(n: number): void {
    const old = this.slots;
    const spilled = [...this.spill.values()];
    this.slots = new Array<Pending | undefined>(n).fill(undefined);
    this.mask = n - 1;
    this.spill.clear();
    this.size = 0;
    for (const p of old) if (p !== undefined) this.add(p);
    for (const p of spilled) this.add(p);
  }
}
