/**
 * Channel element types: their native codes, checking and encoding a value for a channel of
 * one type, and decoding a received one (numeric values travel as they are; structured
 * values through the codec, with the weft objects they carry beside the bytes).
 * @internal
 * @module
 */
import { encode } from '../internal/codec.js';
import type { Handle } from '../internal/native.js';
import { Elem } from '../internal/abi.js';
import type { ElemType } from './types.js';

/** @internal native element code of each element type */
export const ELEM_CODES: Record<ElemType, number> = { structured: Elem.Structured, f64: Elem.F64, i32: Elem.I32, i64: Elem.I64, bool: Elem.Bool };
/** @internal element type of each native code */
export const ELEM_NAMES: ElemType[] = [];
for (const [name, code] of Object.entries(ELEM_CODES)) ELEM_NAMES[code] = name as ElemType;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** @internal the native code of `opts.elem` (default `'structured'`); TypeError for anything else. */
export function elemCode(elem: unknown): number {
  const e = elem ?? 'structured';
  if (typeof e !== 'string' || !Object.hasOwn(ELEM_CODES, e)) {
    throw new TypeError(`elem must be one of ${ELEM_NAMES.join(', ')}, got ${String(e)}`);
  }
  return ELEM_CODES[e as ElemType];
}

/** Weft objects of the value last encoded by `encodeElem` (see there). */
let encRefs: Handle[] | undefined;

/** @internal the weft objects of the value last encoded by `encodeElem` */
export function lastEncRefs(): Handle[] | undefined {
  return encRefs;
}

/**
 * @internal Validates and encodes a value for a channel of element code `code`: returns the
 * payload (the value itself for numeric channels; the scratch length or bytes for structured
 * ones) and leaves the weft objects it carries for `lastEncRefs()` (no allocation on the
 * numeric hot path).
 */
export function encodeElem(code: number, value: unknown): unknown {
  switch (code) {
    case Elem.Structured: {
      const e = encode(value);
      encRefs = e.refs;
      return e.payload;
    }
    case Elem.F64:
      if (typeof value !== 'number') throw new TypeError(`value must be a number for an f64 channel, got ${typeof value}`);
      break;
    case Elem.I32:
      if (typeof value !== 'number') throw new TypeError(`value must be a number for an i32 channel, got ${typeof value}`);
      if ((value | 0) !== value) {
        throw new RangeError(`value must be an int32 for an i32 channel, got ${value}`);
      }
      break;
    case Elem.I64:
      if (typeof value !== 'bigint') throw new TypeError(`value must be a bigint for an i64 channel, got ${typeof value}`);
      if (value < I64_MIN || value > I64_MAX) throw new RangeError(`value must fit in int64, got ${value}`);
      break;
    default:
      if (typeof value !== 'boolean') throw new TypeError(`value must be a boolean for a bool channel, got ${typeof value}`);
  }
  encRefs = undefined;
  return value;
}
