/**
 * How weft objects print under `util.inspect` (so `console.log`): kind, name and live state,
 * never the native handle or other internal fields.
 * @internal
 * @module
 */
import { inspect, type InspectOptions } from 'node:util';

/** The symbol Node's `util.inspect` looks for on an object. */
export const inspectSymbol: unique symbol = inspect.custom as never;

/**
 * Formats a weft object as `Kind 'name' { key: value, ... }` (name omitted when unset),
 * e.g. `Chan<f64> 'jobs' { length: 2, capacity: 8, closed: false }`.
 * @internal
 */
export function formatWeft(
  kind: string,
  name: string | undefined,
  state: Record<string, unknown>,
  depth: number,
  options: InspectOptions,
): string {
  const head = name === undefined || name === '' ? kind : `${kind} ${inspect(name, options)}`;
  if (depth < 0) return `[${head}]`;
  const keys = Object.keys(state);
  if (keys.length === 0) return head;
  const inner = { ...options, depth: options.depth == null ? null : Math.max(0, (options.depth ?? 2) - 1) };
  const parts = keys.map((k) => `${k}: ${inspect(state[k], inner)}`);
  return `${head} { ${parts.join(', ')} }`;
}
