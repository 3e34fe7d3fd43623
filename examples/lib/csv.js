// The CSV pipeline's steps (Effective Concurrency in Go, ch. 9 "Pipelines"): parse a CSV line
// into a record, convert its units, encode it as JSON. Plain functions: the pipeline examples
// call them on the main thread or name them as { module, export } so that they run on weft's
// pool threads (one module, imported once per pool thread).

const NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Rob', 'Robert'];

/** Line `i` of the generated input: `row,height_cm,weight_kg,name` (deterministic). */
export function csvLine(i) {
  const height = 150 + ((i * 37) % 50) + ((i * 13) % 10) / 10;
  const weight = 45 + ((i * 53) % 60) + ((i * 7) % 10) / 10;
  return `${i},${height.toFixed(1)},${weight.toFixed(1)},${NAMES[i % NAMES.length]}`;
}

/** The CSV lines of rows 0..n-1. */
export function* csvLines(n) {
  for (let i = 0; i < n; i++) yield csvLine(i);
}

/** Parses one line into { row, height, weight, name }; throws on a malformed field. */
export function parse(line) {
  const [row, height, weight, name] = line.split(',');
  const rec = { row: Number(row), height: Number(height), weight: Number(weight), name };
  if (!Number.isFinite(rec.height)) throw new Error(`row ${row}: bad height '${height}'`);
  if (!Number.isFinite(rec.weight)) throw new Error(`row ${row}: bad weight '${weight}'`);
  return rec;
}

/** Metric to imperial, plus the body-mass index (a little arithmetic per record, as in the book). */
export function convert(rec) {
  const m = rec.height / 100;
  let bmi = rec.weight / (m * m);
  // some CPU work per record, so that running the stage on several threads pays
  for (let i = 0; i < 200; i++) bmi = Math.sqrt(bmi * bmi + i * 1e-9);
  return {
    row: rec.row,
    name: rec.name,
    heightIn: Math.round((rec.height / 2.54) * 10) / 10,
    weightLb: Math.round(rec.weight * 2.20462 * 10) / 10,
    bmi: Math.round(bmi * 10) / 10,
  };
}

/** Encodes a converted record as one JSON line, keeping its row number next to it. */
export function encode(rec) {
  return { row: rec.row, json: JSON.stringify(rec) };
}

/** parse + convert + encode on one value: a whole record's work in one call. */
export function parseConvert(line) {
  return convert(parse(line));
}

/**
 * parse + convert that reports a bad line as a value instead of throwing (the book's
 * "errors travel with the data" pipeline): { row, error } or the converted record.
 */
export function parseConvertChecked(line) {
  try {
    return convert(parse(line));
  } catch (e) {
    return { row: Number(line.split(',')[0]), error: e.message };
  }
}

/** A 32-bit FNV-1a hash of a string: the checksum adds these up (order does not matter). */
export function hash(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
