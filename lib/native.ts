/**
 * Loads the native addon (a prebuild from `prebuilds/`, else `build/Release`) and sets up
 * this thread's shared scratch and status areas.
 * @internal
 * @module
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Opaque native handle of a shared object (owns one reference; GC drops it). */
export type Handle = { readonly __weftHandle: unique symbol };

export interface Native {
  init(probe: () => number): [ArrayBuffer, ArrayBuffer];
  getScratch(): ArrayBuffer;
  share(h: Handle): number;
  attach(id: number): Handle | null;
  kindOf(h: unknown): number;
  liveObjects(): number;
  takeRefs(): Handle[];
  chanNew(capacity: number, elem: number): Handle;
  chanInfo(h: Handle): [number, number, number];
  chanLen(h: Handle): number;
  chanClosed(h: Handle): boolean;
  chanClose(h: Handle): boolean;
  chanTrySend(h: Handle, v: unknown, refs: Handle[] | undefined): number;
  chanSendSync(h: Handle, v: unknown, refs: Handle[] | undefined, timeout: number): number;
  chanSend(h: Handle, v: unknown, refs: Handle[] | undefined): number | Promise<AsyncResult>;
  chanTryRecv(h: Handle): unknown;
  chanRecvSync(h: Handle, timeout: number): unknown;
  chanRecv(h: Handle): unknown;
  chanSendMany(h: Handle, values: ArrayBufferView, timeout: number, block: boolean): number;
  chanRecvMany(h: Handle, max: number, timeout: number, block: boolean): ArrayBufferView;
  select(
    handles: (Handle | null)[],
    ops: Int32Array,
    values: unknown[],
    refs: (Handle[] | undefined)[],
    mode: number,
    timeout: number,
  ): AsyncResult | Promise<AsyncResult>;
  cancel(id: number, code: number): boolean;
  weaken(id: number): void;
  timerNew(): Handle;
  timerChan(h: Handle): Handle;
  timerReset(h: Handle, delayMs: number, periodMs: number): boolean;
  timerStop(h: Handle): boolean;
  timerStats(): [number, boolean];
  ctxNew(parent: Handle | null, deadline: number, key: string | undefined, value: Uint8Array | undefined, refs: Handle[] | undefined): Handle;
  ctxDone(h: Handle): Handle;
  ctxErr(h: Handle): number;
  ctxDeadline(h: Handle): number;
  ctxCancel(h: Handle, err: number, cause: Uint8Array | undefined, refs: Handle[] | undefined): boolean;
  ctxCause(h: Handle): [Uint8Array, Handle[]] | null;
  ctxChain(h: Handle): [number, string][];
  ctxValue(h: Handle, nodeId: number): [Uint8Array, Handle[]] | undefined;
}

/** [code, case index, value] — value is a number/bigint/boolean or [Uint8Array, Handle[]?]. */
export type AsyncResult = [number, number, unknown];

export const native: Native = require('node-gyp-build')(root);

/** Result codes shared with native/thread_ctx.h. */
export const Code = {
  Ok: 0,
  WouldBlock: 1,
  Closed: 2,
  Timeout: 3,
  Stopped: 4,
  Pending: 5,
  Canceled: 6,
} as const;

/** Kinds shared with native/registry.h. */
export const Kind = { Channel: 1, Timer: 2, Context: 3 } as const;

const [scratchAb, statusAb] = native.init(() => 0);
/** status[0]: code of the last call; status[1]: id of the last pending op; status[2]: refs. */
export const status = new Int32Array(statusAb);
let scratchU8 = new Uint8Array(scratchAb);

/** This thread's scratch area (re-read after the native side grew it). */
export function scratch(): Uint8Array {
  return scratchU8;
}

export function refreshScratch(): Uint8Array {
  scratchU8 = new Uint8Array(native.getScratch());
  return scratchU8;
}
