/**
 * The wire format shared by the codec's writer (codec.ts) and reader (codec-read.ts).
 *
 * A value is a tag byte and its body (u32 are little-endian). Objects are numbered in the
 * order they start (pre-order) and T_BACK names an earlier one. T_OBJECT is a plain object
 * nothing inside refers back to (the reader builds it after its values, from a cached shape);
 * T_OBJECT_EAGER one that must exist before its values. Weft objects, SharedArrayBuffers and
 * WebAssembly modules are indexes into the message's refs (handles carried beside the bytes).
 * @internal
 * @module
 */
/** Primitive tags (T_I32/T_F64: 4/8-byte number; T_ASCII/T_UTF16: u32 length + units). */
export const T_UNDEF = 0, T_NULL = 1, T_TRUE = 2, T_FALSE = 3, T_I32 = 4, T_F64 = 5;
/** String and container tags: T_ARRAY u32 length + elements (T_HOLE for a hole); T_OBJECT u32 count + key/value pairs; T_BIGINT a hex string; T_REF u32 weft ref index. */
export const T_ASCII = 6, T_UTF16 = 7, T_ARRAY = 8, T_OBJECT = 9, T_BIGINT = 10, T_REF = 11;
/** T_MAP/T_SET u32 count + entries; T_DATE f64; T_VIEW u8 type, u8 length-tracking, u32 offset, u32 length, then its buffer; T_AB u32 length + bytes. */
export const T_OBJECT_EAGER = 12, T_MAP = 13, T_SET = 14, T_DATE = 15, T_VIEW = 16, T_AB = 17;
/** T_BACK u32 object id; T_ARRAY_X an array followed by its named properties (a T_OBJECT); T_SPARSE u32 length + T_OBJECT of its properties; T_REGEXP source, flags; T_BOXED u8 kind + value. */
export const T_BACK = 18, T_HOLE = 19, T_ARRAY_X = 20, T_SPARSE = 21, T_REGEXP = 22, T_BOXED = 23;
/** T_ERROR u8 prototype, u8 fields, [message], [stack], [cause]; T_RAB u32 length, u32 max + bytes; T_SAB/T_WASM_MOD u32 ref index; T_HOST u8 kind + description; T_WASM_MEM u32 ref + V8 bytes. */
export const T_ERROR = 24, T_RAB = 25, T_SAB = 26, T_HOST = 27, T_WASM_MEM = 28, T_WASM_MOD = 29;
/** T_LATIN1 u32 length + one byte per character (ISO-8859-1): a long string V8 holds one byte per character, copied as it is. */
export const T_LATIN1 = 30;

/** View types in wire order (Buffer travels as Uint8Array, as structured clone does). */
export const viewTypes = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, DataView, BigInt64Array, BigUint64Array,
] as const;

/** Error prototypes structured clone keeps (by the error's `name`); anything else is Error. */
export const errorCtors = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];
