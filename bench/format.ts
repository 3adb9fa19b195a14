/** Number formatting and plain-text / Markdown tables for benchmark output. */
import { num } from '#internal/cmdline/format.js';

export { num, sig } from '#internal/cmdline/format.js';

/** A range of whole numbers, "579–793", or "-62 to -31" when a dash would read as a minus sign. */
export function range(lo: number, hi: number): string {
  return lo < 0 || hi < 0 ? `${num(lo)} to ${num(hi)}` : `${num(lo)}–${num(hi)}`;
}

/** A ratio as `1.23×`. */
export function times(x: number | undefined | null): string {
  return x === undefined || x === null || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}×`;
}

/** A Markdown table; cells are used as given (escape `|` yourself). */
export function markdownTable(header: string[], rows: string[][], align?: Array<'l' | 'r'>): string {
  const sep = header.map((_, i) => ((align?.[i] ?? 'l') === 'r' ? '---:' : '---'));
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(sep), ...rows.map(line)].join('\n');
}

/** A fixed-width text table for terminals: numbers right-aligned, everything else left-aligned. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => /^[-+]?[\d,.]+[×%]?$|^-$/.test(r[i] ?? '-')));
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}
