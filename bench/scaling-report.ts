/** Tables and the log-log plot for a scaling run, plus the checks of the scaling targets. */
import type { Spec } from 'vega';
import { markdownTable, sig, textTable, times } from './format.js';
import { logLogSpec, type LinePoint } from './plot.js';
import { MECHANISMS, pointAt, type Mechanism, type ScalingResult } from './scaling.js';

/** Rows of N | select | poll | epoll (µs per wait) | poll ÷ epoll. */
function rows(result: ScalingResult): string[][] {
  return result.counts.map((n) => {
    const cost = (m: Mechanism): number | undefined => pointAt(result, m, n)?.usPerWait;
    const poll = cost('poll');
    const epoll = cost('epoll');
    return [n.toLocaleString('en-US'), ...MECHANISMS.map((m) => sig(cost(m))),
      poll !== undefined && epoll !== undefined ? times(poll / epoll) : '-'];
  });
}

const HEADER = ['watched fds', 'select CPU µs', 'poll CPU µs', 'epoll CPU µs', 'poll ÷ epoll'];

export function scalingTextTable(result: ScalingResult): string {
  return textTable(HEADER, rows(result));
}

export function scalingMarkdownTable(result: ScalingResult): string {
  return markdownTable(HEADER, rows(result), ['r', 'r', 'r', 'r', 'r']);
}

export function scalingPlotSpec(result: ScalingResult, subtitle?: string): Spec {
  const points: LinePoint[] = result.points.map((p) => ({ series: p.mechanism, x: p.fds, y: p.usPerWait }));
  const opts = {
    title: 'Cost of one readiness wait with one ready descriptor',
    xTitle: 'watched descriptors (pipe ends, one readable)',
    yTitle: 'CPU µs per wait (median of rounds)',
    series: MECHANISMS.filter((m) => result.points.some((p) => p.mechanism === m)),
  };
  return logLogSpec(points, subtitle === undefined ? opts : { ...opts, subtitle });
}

export interface ScalingVerdict {
  target: string;
  met: boolean | null;
  detail: string;
}

/**
 * Least-squares slope of log(cost) against log(N) over the points with N ≥ 100: about 1 for a linear
 * mechanism, about 0 for a flat one.
 */
export function logLogSlope(result: ScalingResult, mechanism: Mechanism, fromFds = 100): number | undefined {
  const pts = result.points.filter((p) => p.mechanism === mechanism && p.fds >= fromFds);
  if (pts.length < 2) return undefined;
  const xs = pts.map((p) => Math.log10(p.fds));
  const ys = pts.map((p) => Math.log10(p.usPerWait));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}

/** Issue 6: epoll at 10,000 fds within 2× of epoll at 10; poll and select grow roughly linearly. */
export function scalingVerdicts(result: ScalingResult): ScalingVerdict[] {
  const out: ScalingVerdict[] = [];
  const e10 = pointAt(result, 'epoll', 10)?.usPerWait;
  const e10k = pointAt(result, 'epoll', 10_000)?.usPerWait;
  if (e10 !== undefined && e10k !== undefined) {
    const r = e10k / e10;
    out.push({ target: 'epoll wait at 10,000 fds ≤ 2× its cost at 10', met: r <= 2,
      detail: `${sig(e10k)} µs vs ${sig(e10)} µs: ${times(r)}` });
  } else {
    out.push({ target: 'epoll wait at 10,000 fds ≤ 2× its cost at 10', met: null, detail: 'not measured (needs --max-fds 10000)' });
  }
  for (const m of ['poll', 'select'] as const) {
    const slope = logLogSlope(result, m);
    const target = `${m} grows roughly linearly with the watched fds`;
    if (slope === undefined) {
      out.push({ target, met: null, detail: 'fewer than two points at N ≥ 100' });
      continue;
    }
    // "Roughly linear": a log-log slope between 0.7 and 1.3 from N = 100 up.
    const pts = result.points.filter((p) => p.mechanism === m && p.fds >= 100);
    const first = pts[0]!;
    const last = pts[pts.length - 1]!;
    out.push({ target, met: slope >= 0.7 && slope <= 1.3,
      detail: `log-log slope ${slope.toFixed(2)} from N = ${first.fds} to ${last.fds.toLocaleString('en-US')} ` +
        `(${sig(first.usPerWait)} → ${sig(last.usPerWait)} µs, ${times(last.usPerWait / first.usPerWait)} ` +
        `for ${times(last.fds / first.fds)} the fds)` });
  }
  return out;
}
