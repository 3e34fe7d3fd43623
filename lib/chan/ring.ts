/**
 * The JavaScript fast path of buffered numeric channels (`f64`, `i32`, `i64`, `bool`).
 *
 * Structured channels take the same path for small values: the encoded bytes (at most
 * `kRingInlineBytes`, carrying no weft object) are copied into the claimed slot's inline block
 * and the slot's value says so (abi.h); larger values, and values native code queued, travel
 * as native messages, received by native code.
 *
 * The channel's ring lives in native memory (native/core/chan/ring.cc) with the layout of
 * native/core/abi.h (`RingHeader`, `RingSlot`). `chanRing()` maps it into this thread as
 * ArrayBuffers, and a receive (and, on the main thread, a send) on a channel that is neither
 * empty nor full is the same sequence of atomic steps native code performs (Vyukov's bounded
 * MPMC queue): load the position, check the slot's stamp, compare-and-swap the position, move
 * the value, set the slot's new stamp. Native code is entered only when the ring cannot serve
 * the operation now (full, empty, closed, contended): the native call then decides, parks and
 * wakes, so every blocking, closing and cancelling rule stays in one place. After a push (pop)
 * the waiter count of the other side is read, and a non-zero count asks native code to wake
 * one waiter (chanNotify).
 *
 * Memory orders: every `Atomics` operation is sequentially consistent, at least as strong as
 * each native counterpart (acquire stamp loads, seq_cst position CAS, release stamp stores and
 * CASes, seq_cst waiter-count loads); plain value reads/writes sit where ring.cc has its
 * relaxed ones, ordered by the stamp operations around them.
 *
 * Worker.terminate() can stop a thread between any two of these steps (measured: a receiver
 * stopped between its claim and its release left the slot stuck with the old ring). So:
 * - a receiver reads the value before its CAS claims it, and frees the slot with a CAS; a
 *   slot whose value was claimed but never freed is freed by the next sender that meets it
 *   (ring.cc free_slot);
 * - a sender writes a send record (this thread's: ring serial, position, value, and a
 *   structured value's bytes) and takes the slot's owner word before its claim, and gives the
 *   word back after publishing. A sender stopped in between still holds the word, and its
 *   thread's cleanup (native/node/send_record.cc, run on this thread as its environment ends)
 *   publishes the recorded value if the position was claimed (ring.cc finish_send);
 * - a wake-up owed by a thread stopped between publishing and chanNotify is delivered by the
 *   ring header buffer's finalizer (bind_chan.cc).
 * @internal
 * @module
 */
import { isMainThread } from 'node:worker_threads';
import { native, scratch, type Handle } from '../internal/native.js';
import { decode } from '../internal/codec.js';
import {
  Elem,
  kRingCapacityByteOffset,
  kRingHeadByteOffset,
  kRingHeaderBytes,
  kRingInlineBytes,
  kRingMarkBitByteOffset,
  kRingOneLapByteOffset,
  kRingRecvWaitingByteOffset,
  kRingSendWaitingByteOffset,
  kRingSerialByteOffset,
  kRingSlotBytes,
  kRingSlotStampByteOffset,
  kRingSlotValueByteOffset,
  kRingTailByteOffset,
  kSendRecordBlockByteOffset,
  kSendRecordIdByteOffset,
  kSendRecordPosByteOffset,
  kSendRecordSerialByteOffset,
  kSendRecordValueByteOffset,
} from '../internal/abi.js';

// Int32 word indexes into the header, and per-slot word offsets (abi.h).
const HEAD = kRingHeadByteOffset >> 2;
const TAIL = kRingTailByteOffset >> 2;
const RECV_WAITING = kRingRecvWaitingByteOffset >> 2;
const SEND_WAITING = kRingSendWaitingByteOffset >> 2;
const SLOT_SHIFT = Math.log2(kRingSlotBytes >> 2); // Int32 words per slot, as a shift
const STAMP = kRingSlotStampByteOffset >> 2;
const VAL32 = kRingSlotValueByteOffset >> 2; // low word of the value (little-endian)
const SLOT64_SHIFT = Math.log2(kRingSlotBytes >> 3); // 64-bit words per slot, as a shift
const VAL64 = kRingSlotValueByteOffset >> 3;
/** Attempts before a contended operation leaves the decision to native code (which backs off). */
const TRIES = 8;
/** The value layout assumes a little-endian machine (every platform Node runs on today). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Whether this thread sends numeric values through the ring in JavaScript: the main thread,
 * not workers, which send them through native code (equally safe: native code finishes every
 * claim). Measured back to back (3 runs each, per value), worker sends in JavaScript against
 * native: f64 1→1 392/476 against 264/338 ns, MPMC 4×4 400/444 against 342/328 ns,
 * selectSync 312/309 against 603/569 ns; under contention a JavaScript send pays two more
 * locked instructions (Atomics.store is an xchg) and holds the slot's owner word longer.
 * Structured values (inline) are sent here by every thread: the native path allocates a
 * message for each. `WEFT_INTERNAL_RING_SEND=js` makes workers send numeric values here too
 * (for tests of a worker stopped inside a JavaScript send).
 */
const NUMERIC_SEND_IN_JS = isMainThread || process.env.WEFT_INTERNAL_RING_SEND === 'js';

// This thread's send record (abi.h kSendRecord*), mapped on first use.
let rec32: Int32Array | undefined;
let recF: Float64Array;
let recB: BigInt64Array;
let recBlock: Uint8Array;
/** This thread's send id: the value a sender stores in a slot's owner word. */
let me = 0;
const R_SERIAL = kSendRecordSerialByteOffset >> 2;
const R_POS = kSendRecordPosByteOffset >> 2;
const R_VAL32 = kSendRecordValueByteOffset >> 2;
const R_VAL64 = kSendRecordValueByteOffset >> 3;
function mapRecord(): Int32Array {
  const ab = native.sendRecord();
  rec32 = new Int32Array(ab);
  recF = new Float64Array(ab);
  recB = new BigInt64Array(ab);
  recBlock = new Uint8Array(ab, kSendRecordBlockByteOffset, kRingInlineBytes);
  me = rec32[kSendRecordIdByteOffset >> 2]!;
  return rec32;
}

/** What `tryRecv` returns when it received nothing (a structured value may be `undefined`). */
export const NONE: unique symbol = Symbol('weft.none');

/** @internal a thread's view of one buffered numeric channel's ring. */
export class Ring {
  readonly h: Handle;
  readonly elem: number;
  /** header words: positions, waiter counts, geometry */
  readonly w: Int32Array;
  /** slot words: stamp at slot << SLOT_SHIFT, the value's low word at + VAL32 */
  readonly s: Int32Array;
  readonly f: Float64Array;
  readonly b: BigInt64Array;
  /** the slots' owner words (one Int32 per slot, apart from the slots) */
  readonly o: Int32Array;
  /** structured rings: the inline blocks (kRingInlineBytes per slot) */
  readonly blocks: Uint8Array | undefined;
  readonly cap: number;
  readonly idxMask: number;
  readonly mark: number;
  readonly lapMask: number;
  readonly oneLap: number;
  /** the ring's serial (names it in the send record) */
  readonly serial: number;

  constructor(h: Handle, elem: number, header: ArrayBuffer, slots: ArrayBuffer, owners: ArrayBuffer, blocks?: ArrayBuffer) {
    if (header.byteLength !== kRingHeaderBytes) throw new Error('weft: ring header of an unexpected size');
    this.h = h;
    this.elem = elem;
    this.w = new Int32Array(header);
    this.s = new Int32Array(slots);
    this.f = new Float64Array(slots);
    this.b = new BigInt64Array(slots);
    this.o = new Int32Array(owners);
    this.blocks = blocks === undefined ? undefined : new Uint8Array(blocks);
    // Geometry: plain words the constructor wrote before the channel left its thread.
    this.cap = this.w[kRingCapacityByteOffset >> 2]!;
    this.mark = this.w[kRingMarkBitByteOffset >> 2]!;
    this.oneLap = this.w[kRingOneLapByteOffset >> 2]! >>> 0;
    this.serial = this.w[kRingSerialByteOffset >> 2]!;
    this.idxMask = this.mark - 1;
    this.lapMask = ~(this.oneLap - 1);
    if (slots.byteLength !== this.cap * kRingSlotBytes || this.o.length !== this.cap) {
      throw new Error('weft: ring slots of an unexpected size');
    }
  }

  /** Whether the channel is closed (the tail's mark bit; seq_cst load, as ring_closed's acquire). */
  closed(): boolean {
    return (Atomics.load(this.w, TAIL) & this.mark) !== 0;
  }

  /**
   * Sends `v` (already checked and encoded for the element type: for a structured channel the
   * codec's payload, with `refs` its weft objects) if a slot is free and the channel is open;
   * false leaves the whole decision to native code (full, closed, contended, or a structured
   * value that needs a native message: too long for an inline block, or carrying objects).
   */
  trySend(v: unknown, refs?: unknown): boolean {
    let bytes: Uint8Array | undefined;
    const rec = rec32 ?? mapRecord();
    // The send record (plain stores: only this thread reads them, its cleanup after its
    // JavaScript stopped). The position is filled in below, per attempt.
    rec[R_SERIAL] = this.serial;
    if (this.elem === Elem.Structured) {
      if (typeof v !== 'number' || v > kRingInlineBytes || refs !== undefined) return false;
      bytes = scratch().subarray(0, v); // the encoded value (valid until the next encode)
      recBlock.set(bytes);
      rec[R_VAL32] = (v << 1) | 1;
      rec[R_VAL32 + 1] = 0;
    } else {
      if (!NUMERIC_SEND_IN_JS) return false;
      switch (this.elem) {
        case Elem.F64:
          recF[R_VAL64] = v as number;
          break;
        case Elem.I64:
          recB[R_VAL64] = v as bigint;
          break;
        default:
          rec[R_VAL32] = v === true ? 1 : v === false ? 0 : (v as number);
          rec[R_VAL32 + 1] = 0;
      }
    }
    const w = this.w;
    const s = this.s;
    let tail = Atomics.load(w, TAIL);
    for (let i = 0; i < TRIES; i++) {
      if ((tail & this.mark) !== 0) return false; // closed: native code throws
      const idx = tail & this.idxMask;
      const at = idx << SLOT_SHIFT;
      const stamp = Atomics.load(s, at + STAMP);
      if (stamp === tail) {
        const next = idx + 1 < this.cap ? (tail + 1) | 0 : ((tail & this.lapMask) + this.oneLap) | 0;
        rec[R_POS] = tail;
        // The slot's owner word (ring.cc, above ring_owners): while this thread holds it, only
        // this thread (or a counted native sender) can claim `tail`. seq_cst CAS, as ring_push's
        // acquire; another sender holding it is about to claim or lose the position.
        if (Atomics.compareExchange(this.o, idx, 0, me) !== 0) {
          tail = Atomics.load(w, TAIL);
          continue;
        }
        // seq_cst CAS: claims the slot; ordered before the waiter-count load below (pairs with
        // a receiver's increment of recv_waiting then re-check, channel.cc enqueue_locked).
        const seen = Atomics.compareExchange(w, TAIL, tail, next);
        if (seen === tail) {
          // Claimed: the value and its stamp must follow. If this thread is stopped before
          // the stamp, its finalizer publishes the recorded value (ring.cc finish_send).
          switch (this.elem) {
            case Elem.F64:
              this.f[(idx << SLOT64_SHIFT) + VAL64] = v as number;
              break;
            case Elem.Structured:
              // One builtin copy into this slot's block (no JavaScript runs inside it).
              this.blocks!.set(bytes!, idx * kRingInlineBytes);
              s[at + VAL32] = ((v as number) << 1) | 1;
              s[at + VAL32 + 1] = 0;
              break;
            case Elem.I64:
              this.b[(idx << SLOT64_SHIFT) + VAL64] = v as bigint;
              break;
            default: // i32, bool: zero-extended to 64 bits, as native value_to_bits stores them
              s[at + VAL32] = v === true ? 1 : v === false ? 0 : (v as number);
              s[at + VAL32 + 1] = 0;
          }
          // Publishes the value to the receiver that loads this stamp (release in ring.cc).
          Atomics.store(s, at + STAMP, (tail + 1) | 0);
          // Gives the owner word back after the stamp (ring_push's release store).
          Atomics.store(this.o, idx, 0);
          if (Atomics.load(w, RECV_WAITING) !== 0) native.chanNotify(this.h, false);
          return true;
        }
        Atomics.store(this.o, idx, 0); // lost the position: give the word back, look again
        tail = seen;
      } else if (((stamp + this.oneLap) | 0) === ((tail + 1) | 0)) {
        return false; // full (or a receiver is mid-pop): native code decides and may wait
      } else {
        tail = Atomics.load(w, TAIL); // another sender claimed the slot: look again
      }
    }
    return false;
  }

  /**
   * Receives a value if one is published; `NONE` leaves the decision to native code (empty,
   * closed and drained, contended, or a structured value queued as a native message).
   */
  tryRecv(): unknown {
    const w = this.w;
    const s = this.s;
    const structured = this.elem === Elem.Structured;
    const dst = structured ? scratch() : undefined;
    let head = Atomics.load(w, HEAD);
    for (let i = 0; i < TRIES; i++) {
      const idx = head & this.idxMask;
      const at = idx << SLOT_SHIFT;
      const stamp = Atomics.load(s, at + STAMP);
      if (stamp === ((head + 1) | 0)) {
        // Read the value BEFORE claiming it (see the module comment): if the CAS below
        // succeeds, this is the value of position `head`, which nobody could free before head
        // moved; if it fails, the read may overlap the next lap's write and is discarded.
        let v: unknown;
        switch (this.elem) {
          case Elem.F64:
            v = this.f[(idx << SLOT64_SHIFT) + VAL64];
            break;
          case Elem.Structured: {
            // A native message (bit 0 clear) is native code's to take.
            const bits = Atomics.load(s, at + VAL32);
            if ((bits & 1) === 0) return NONE;
            v = bits >>> 1;
            const start = idx * kRingInlineBytes;
            dst!.set(this.blocks!.subarray(start, start + (v as number))); // one builtin copy
            break;
          }
          case Elem.I64:
            v = this.b[(idx << SLOT64_SHIFT) + VAL64];
            break;
          case Elem.Bool:
            v = s[at + VAL32] !== 0;
            break;
          default:
            v = s[at + VAL32];
        }
        const next = idx + 1 < this.cap ? (head + 1) | 0 : ((head & this.lapMask) + this.oneLap) | 0;
        // seq_cst CAS: claims the value; ordered before the waiter-count load below.
        const seen = Atomics.compareExchange(w, HEAD, head, next);
        if (seen === head) {
          // Free the slot for the next lap's sender. A CAS, not a store: if this thread was
          // stopped right after its claim, a sender freed the slot for it (ring.cc free_slot)
          // and may already have reused it.
          Atomics.compareExchange(s, at + STAMP, (head + 1) | 0, (head + this.oneLap) | 0);
          if (Atomics.load(w, SEND_WAITING) !== 0) native.chanNotify(this.h, true);
          return structured ? decode(dst!, v as number, undefined) : v;
        }
        head = seen;
      } else if (stamp === head || ((stamp + this.oneLap) | 0) === ((head + 1) | 0)) {
        // Nothing published for head yet (free for this lap, or last lap's claimed value not
        // freed by a stopped receiver): empty, or a sender is mid-push: native code decides.
        return NONE;
      } else {
        head = Atomics.load(w, HEAD);
      }
    }
    return NONE;
  }
}

/**
 * @internal The ring of channel `h` mapped into this thread, or null when the channel has no
 * JavaScript fast path (unbuffered, a structured ring too large for inline blocks, or a
 * big-endian machine).
 */
export function ringOf(h: Handle, elem: number, capacity: number): Ring | null {
  if (capacity === 0 || !LITTLE_ENDIAN) return null;
  const bufs = native.chanRing(h);
  return bufs === null ? null : new Ring(h, elem, bufs[0], bufs[1], bufs[2], bufs[3]);
}
