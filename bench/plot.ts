/**
 * Charts for the benchmark docs, as SVG, drawn by Vega (https://vega.github.io) rendering headless: the
 * specs below describe scales, axes and marks, and Vega lays them out and writes the SVG.
 *
 * Vega is a development dependency, loaded only when a chart is asked for, so the rest of the benchmark
 * tools work without it.
 */
import type { Spec } from 'vega';

type VegaModule = typeof import('vega');

let vegaModule: Promise<VegaModule> | undefined;

/** The `vega` package, or an Error saying how to install it. */
export function loadVega(): Promise<VegaModule> {
  vegaModule ??= import('vega').catch((err: unknown) => {
    vegaModule = undefined;
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error("drawing charts needs the 'vega' package, a development dependency of iomux: run \`npm install\` in the iomux checkout");
    }
    throw err;
  });
  return vegaModule;
}

/** Renders a Vega spec to an SVG document. */
export async function renderSvg(spec: Spec): Promise<string> {
  const vega = await loadVega();
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return `${svg}\n`;
  } finally {
    view.finalize();
  }
}

const FONT = 'Helvetica, Arial, sans-serif';
/** A fixed colour per series name, so the same server has the same colour in every chart. */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
  return out;
}

export interface LinePoint {
  series: string;
  x: number;
  y: number;
}

export interface LogLogOptions {
  title: string;
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  /** Series in legend order. */
  series: string[];
  width?: number;
  height?: number;
}

/** A log-log line chart with one line (and point symbols) per series. */
export function logLogSpec(points: LinePoint[], o: LogLogOptions): Spec {
  if (points.length === 0) throw new Error('nothing to plot: no points');
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const xDomain = [10 ** Math.floor(Math.log10(Math.min(...xs))), 10 ** Math.ceil(Math.log10(Math.max(...xs)))];
  const yDomain = [10 ** Math.floor(Math.log10(Math.min(...ys))), 10 ** Math.ceil(Math.log10(Math.max(...ys)))];
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: o.width ?? 560,
    height: o.height ?? 360,
    padding: 8,
    background: 'white',
    title: { text: o.title, subtitle: o.subtitle ?? '', font: FONT, subtitleFont: FONT, anchor: 'start' },
    config: { axis: { labelFont: FONT, titleFont: FONT }, legend: { labelFont: FONT, titleFont: FONT } },
    data: [{ name: 'points', values: points }],
    scales: [
      { name: 'x', type: 'log', domain: xDomain, range: 'width' },
      { name: 'y', type: 'log', domain: yDomain, range: 'height' },
      { name: 'colour', type: 'ordinal', domain: o.series, range: PALETTE.slice(0, o.series.length) },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: o.xTitle, values: decades(xDomain[0]!, xDomain[1]!), format: ',~r', grid: true },
      { orient: 'left', scale: 'y', title: o.yTitle, values: decades(yDomain[0]!, yDomain[1]!), format: ',~r', grid: true },
    ],
    legends: [{ stroke: 'colour', fill: 'colour', orient: 'top-left', symbolType: 'circle', fillColor: 'white' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'series', data: 'points', groupby: 'series' } },
        marks: [
          {
            type: 'line',
            from: { data: 'series' },
            sort: { field: 'datum.x' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' },
                stroke: { scale: 'colour', field: 'series' }, strokeWidth: { value: 2 },
              },
            },
          },
          {
            type: 'symbol',
            from: { data: 'series' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, size: { value: 30 },
                fill: { scale: 'colour', field: 'series' },
                tooltip: { signal: "datum.series + ': ' + format(datum.y, '.3~g') + ' at ' + datum.x" },
              },
            },
          },
        ],
      },
    ],
  } as Spec;
}

export interface Bar {
  /** The panel (one per group, e.g. a scenario). */
  group: string;
  /** The bar within the panel (e.g. a server); also its colour. */
  series: string;
  value: number;
}

export interface BarsOptions {
  /** Say the unit here: the panels' axes have no title of their own. */
  title: string;
  subtitle?: string;
  groups: string[];
  series: string[];
  panelWidth?: number;
  height?: number;
  /** d3-format string for the value printed on each bar. */
  valueFormat?: string;
}

/**
 * Small multiples of bar charts: one panel per group, each with its own linear y scale (values across groups
 * can differ by orders of magnitude), one bar per series, its value printed on top.
 */
export function barsSpec(bars: Bar[], o: BarsOptions): Spec {
  if (bars.length === 0) throw new Error('nothing to plot: no bars');
  const panelWidth = o.panelWidth ?? 150;
  const gap = 30;
  const height = o.height ?? 220;
  const present = o.series.filter((name) => bars.some((b) => b.series === name));
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: o.groups.length * (panelWidth + gap),
    height,
    padding: 8,
    background: 'white',
    title: { text: o.title, subtitle: o.subtitle ?? '', font: FONT, subtitleFont: FONT, anchor: 'start' },
    config: { axis: { labelFont: FONT, titleFont: FONT }, legend: { labelFont: FONT, titleFont: FONT } },
    // `order` keeps the bars of every panel in the legend's order.
    data: [{ name: 'bars', values: bars.map((b) => ({ ...b, order: o.series.indexOf(b.series) })) }],
    scales: [
      { name: 'panel', type: 'band', domain: o.groups, range: 'width', paddingInner: gap / (panelWidth + gap) },
      // Only the series that have a bar, each keeping its colour (its place in o.series) across charts.
      { name: 'colour', type: 'ordinal', domain: present, range: present.map((s) => PALETTE[o.series.indexOf(s) % PALETTE.length]!) },
    ],
    legends: [{ fill: 'colour', orient: 'bottom', direction: 'horizontal' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'panelBars', data: 'bars', groupby: 'group' } },
        title: { text: { signal: 'parent.group' }, font: FONT, fontSize: 12, frame: 'group', anchor: 'middle' },
        encode: {
          enter: {
            x: { scale: 'panel', field: 'group' }, width: { scale: 'panel', band: 1 },
            y: { value: 0 }, height: { signal: 'height' },
          },
        },
        scales: [
          // Ranges relative to the panel: nested scales would otherwise span the whole chart's width.
          { name: 'x', type: 'band', domain: { data: 'panelBars', field: 'series', sort: { field: 'order', op: 'min' } },
            range: [0, { signal: "bandwidth('panel')" }], padding: 0.15 },
          { name: 'y', type: 'linear', domain: { data: 'panelBars', field: 'value' }, range: [{ signal: 'height' }, 0], zero: true, nice: true },
        ],
        axes: [{ orient: 'left', scale: 'y', tickCount: 4, labelFontSize: 9, format: '~s' }],
        marks: [
          {
            type: 'rect',
            from: { data: 'panelBars' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'series' }, width: { scale: 'x', band: 1 },
                y: { scale: 'y', field: 'value' }, y2: { scale: 'y', value: 0 },
                fill: { scale: 'colour', field: 'series' },
              },
            },
          },
          {
            type: 'text',
            from: { data: 'panelBars' },
            encode: {
              enter: {
                x: { scale: 'x', field: 'series', band: 0.5 }, y: { scale: 'y', field: 'value', offset: -3 },
                text: { signal: `format(datum.value, '${o.valueFormat ?? '.3~g'}')` },
                align: { value: 'center' }, baseline: { value: 'bottom' }, fontSize: { value: 9 }, font: { value: FONT },
              },
            },
          },
        ],
      },
    ],
  } as Spec;
}
