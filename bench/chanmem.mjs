// Child process (node --expose-gc bench/chanmem.mjs <module> <capacity> <count>): bytes of
// process memory (RSS) per idle weft channel, JavaScript handle included: <count> f64 channels
// of <capacity> are created and held, then RSS growth / count is printed as JSON. RSS counts
// what the channel really costs: native memory (malloc), the handle on the V8 heap, and the
// pages both touched. Run in its own process so nothing else grows with it.
const [, , mod, capArg, countArg] = process.argv;
const { Chan } = await import(mod);
const capacity = Number(capArg), n = Number(countArg);
const settle = () => { for (let i = 0; i < 3; i++) globalThis.gc(); };
// Warm up: load every code path once, so the measurement holds channels only.
let keep = Array.from({ length: 1000 }, () => new Chan(capacity, { elem: 'f64' }));
keep = null;
settle();
const before = process.memoryUsage().rss;
keep = new Array(n);
for (let i = 0; i < n; i++) keep[i] = new Chan(capacity, { elem: 'f64' });
settle();
const after = process.memoryUsage().rss;
if (keep.length !== n) throw new Error('unreachable');
process.stdout.write(JSON.stringify({ bytesPerChan: (after - before) / n }) + '\n');
