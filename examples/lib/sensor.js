// A sensor for examples/moving-average.js, run on a pool thread by go(): sends `n` readings
// { t, value } on `out` (a temperature-like signal with deterministic noise), then closes it.
export async function sample(out, n) {
  for (let t = 0; t < n; t++) {
    const noise = (((t * 7919) % 11) - 5) / 10;
    const value = Math.round((20 + 5 * Math.sin(t / 50) + noise) * 100) / 100;
    await out.send({ t, value });
  }
  out.close();
  return n;
}
