/** Number formatting for the CLI's summaries (echo-bench) and the benchmark reports. */

/** `1234567.8` → `1,234,568` (digits after the point: `digits`); '-' for missing values. */
export function num(x: number | undefined | null, digits = 0): string {
  if (x === undefined || x === null || !Number.isFinite(x)) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Three significant digits, grouped: 0.0123, 1.23, 123, 12,345. */
export function sig(x: number | undefined | null): string {
  if (x === undefined || x === null || !Number.isFinite(x)) return '-';
  const abs = Math.abs(x);
  if (abs >= 100) return num(x, 0);
  if (abs >= 10) return num(x, 1);
  if (abs >= 1) return num(x, 2);
  return x.toPrecision(3);
}
