// bench/chart.js: the SVG the bench draws from its results (issue 11: the headline rows as a
// chart). Built from a small results object: each group with a weft value is drawn with its
// baselines (µs converted to ns), groups without one and failed cases are left out.
import { describe, it, expect } from 'vitest';
// @ts-expect-error plain JavaScript module without types
import { chartSvg } from '../bench/chart.js';

const ok = (median: number, unit = 'ns') => ({ status: 'ok', median, unit });

describe('bench chart', () => {
  it('draws weft beside its baselines on a log scale, and leaves out what was not measured', () => {
    const svg: string = chartSvg({
      date: '2026-12-02T00:00:00Z', node: 'v20.20.2', nproc: '2', runs: 3,
      go: { available: true, version: 'go version go1.19.8 linux/amd64', results: { BufferedSPSC: { median: 45.6 } } },
      cases: {
        'weft.f64': ok(275), 'sab.f64': ok(119), 'pm.f64': ok(1505),
        'pool.weftRtt': ok(58.2, 'µs'), 'pool.piscinaRtt': ok(48.1, 'µs'),
        'weft.row': { status: 'timeout', median: 1 }, 'pm.row': ok(3650),
      },
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('f64 value, worker → worker');
    expect(svg).toContain('275 ns');
    expect(svg).toContain('45.6 ns'); // Go
    expect(svg).toContain('1.50 µs'); // postMessage
    expect(svg).toContain('58.2 µs'); // a µs case, drawn in ns scale
    expect(svg).not.toContain('{row,height,weight,name}'); // weft's case failed: no group
    expect(svg).not.toContain('MPMC'); // not measured at all
    expect(svg.match(/<rect [^>]*fill="#/g)!.length).toBeGreaterThanOrEqual(6);
  });
});
