/**
 * Reading V8 heap snapshots (the `.heapsnapshot` JSON that `node --heapsnapshot-signal=SIGUSR2` writes):
 * the live heap's self sizes grouped by what the objects are, and the difference between two snapshots.
 * Taking a snapshot runs a full collection first, so what it lists is what is reachable, without garbage.
 */
import { readFileSync } from 'node:fs';

/** One group of heap objects: how many and their self sizes together (bytes). */
export interface HeapGroup {
  count: number;
  bytes: number;
}

export interface HeapSummary {
  /** Self sizes of every node together: the live JS heap as the snapshot sees it. */
  totalBytes: number;
  /** By group name (see `groupName`). */
  groups: Map<string, HeapGroup>;
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/**
 * Objects and closures by constructor or function name ("object Connection", "closure serve"); arrays
 * and V8's internal ("hidden") objects by their name ("array (object properties)"); strings, numbers and
 * code by their type only (a string's name is its text).
 */
function groupName(type: string, name: string): string {
  switch (type) {
    case 'object':
    case 'closure':
    case 'native':
    case 'array':
    case 'hidden':
    case 'synthetic':
    case 'object shape':
      return `${type} ${name.length > 60 ? `${name.slice(0, 57)}...` : name}`;
    default:
      return type;
  }
}

export function summarizeSnapshot(path: string): HeapSummary {
  const json = JSON.parse(readFileSync(path, 'utf8')) as SnapshotJson;
  const fields = json.snapshot.meta.node_fields;
  const types = json.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, HeapGroup>();
  let totalBytes = 0;
  const nodes = json.nodes;
  for (let i = 0; i < nodes.length; i += stride) {
    const size = nodes[i + sizeAt]!;
    totalBytes += size;
    const key = groupName(types[nodes[i + typeAt]!] ?? '?', json.strings[nodes[i + nameAt]!] ?? '');
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { count: 1, bytes: size });
    else {
      g.count++;
      g.bytes += size;
    }
  }
  return { totalBytes, groups };
}

/** What grew from `before` to `after`, per group, largest first (groups that did not change left out). */
export function heapGrowth(before: HeapSummary, after: HeapSummary): Array<{ group: string } & HeapGroup> {
  const rows: Array<{ group: string } & HeapGroup> = [];
  for (const [group, a] of after.groups) {
    const b = before.groups.get(group) ?? { count: 0, bytes: 0 };
    if (a.count !== b.count || a.bytes !== b.bytes) rows.push({ group, count: a.count - b.count, bytes: a.bytes - b.bytes });
  }
  for (const [group, b] of before.groups) {
    if (!after.groups.has(group)) rows.push({ group, count: -b.count, bytes: -b.bytes });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}
