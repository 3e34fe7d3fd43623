// The function bench/patterns.js's supervise case runs under supervise(): it records when it
// started and when it beat last (process.hrtime ns, in a shared Float64Array), beats `beats`
// times `everyMs` apart, then hangs in a busy loop until the supervisor terminates its thread.
// Run number `last` returns instead, which ends the supervisor.
//   times: SharedArrayBuffer: Int32 run counter, then per run [started, last beat] as f64 ns.
const now = () => Number(process.hrtime.bigint());

export async function stall(times, beats, everyMs, last, hb) {
  const run = Atomics.add(new Int32Array(times, 0, 2), 0, 1);
  const t = new Float64Array(times, 8);
  t[2 * run] = now();
  if (run === last) return run;
  for (let i = 0; i < beats; i++) {
    await new Promise((r) => setTimeout(r, everyMs));
    hb.beat();
    t[2 * run + 1] = now();
  }
  for (;;); // hung: only terminate() ends this
}
