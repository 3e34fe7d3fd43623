/**
 * Values on the wire: `v8.serialize` (the structured clone algorithm's serializer), with weft
 * objects refused: they live in one process's memory and cannot cross machines.
 * @internal
 * @module
 */
import { deserialize, serialize } from 'node:v8';
import { DataCloneError } from '../errors.js';
import { WeftObject } from '../internal/object.js';

/** Throws DataCloneError if `v` holds a weft object (at any depth of arrays, objects, Maps, Sets). */
function refuseWeft(v: unknown, seen: Set<object>): void {
  if (v === null || typeof v !== 'object') return;
  if (seen.has(v)) return;
  seen.add(v);
  if (v instanceof WeftObject) {
    throw new DataCloneError(
      `${v.constructor.name} cannot be sent to another machine: weft objects live in one process's memory ` +
        '(send plain data over weft/nats; keep channels, mutexes and contexts local)',
    );
  }
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return;
  if (v instanceof Map) {
    for (const [k, x] of v) {
      refuseWeft(k, seen);
      refuseWeft(x, seen);
    }
    return;
  }
  if (v instanceof Set) {
    for (const x of v) refuseWeft(x, seen);
    return;
  }
  for (const k of Object.keys(v)) refuseWeft((v as Record<string, unknown>)[k], seen);
}

/** Serializes `v` as structured clone does; throws DataCloneError (nothing sent) if it cannot. */
export function encode(v: unknown): Uint8Array {
  refuseWeft(v, new Set());
  try {
    return serialize(v);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new DataCloneError(`value could not be cloned: ${msg}`, { cause: e });
  }
}

/** The value `encode` wrote. */
export function decode(b: Uint8Array): unknown {
  return deserialize(b);
}
