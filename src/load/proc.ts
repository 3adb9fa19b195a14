/** CPU time of other processes and of the machine, from Linux's /proc (read only at a window's edges). */
import { readdirSync, readFileSync } from 'node:fs';

/** /proc's time unit: USER_HZ, 100 on every Linux ABI iomux runs on. */
export const CLOCK_TICKS_PER_S = 100;

interface ProcStat {
  ppid: number;
  ticks: number;
}

function readStat(pid: string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name may contain spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/**
 * User + system CPU seconds used so far by `pid` and all its living descendants, or undefined if `pid` is
 * gone.
 */
export function processTreeCpuSeconds(pid: number): number | undefined {
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (st) stats.set(Number(name), st);
  }
  const root = stats.get(pid);
  if (!root) return undefined;
  const children = new Map<number, number[]>();
  for (const [p, st] of stats) {
    const list = children.get(st.ppid);
    if (list) list.push(p);
    else children.set(st.ppid, [p]);
  }
  let ticks = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    ticks += stats.get(p)?.ticks ?? 0;
    todo.push(...(children.get(p) ?? []));
  }
  return ticks / CLOCK_TICKS_PER_S;
}

/** Busy and total jiffies of each CPU (busy excludes idle and iowait), from /proc/stat. */
export function cpuJiffies(): Array<{ busy: number; total: number }> {
  const out: Array<{ busy: number; total: number }> = [];
  for (const line of readFileSync('/proc/stat', 'latin1').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out[Number(m[1])] = { busy: total - v[3]! - v[4]!, total };
  }
  return out;
}

/** Per-CPU busy percentage between two cpuJiffies() samples. */
export function busyPercent(before: ReturnType<typeof cpuJiffies>, after: ReturnType<typeof cpuJiffies>): number[] {
  return after.map((a, i) => {
    const b = before[i];
    if (!b || a.total === b.total) return 0;
    return (100 * (a.busy - b.busy)) / (a.total - b.total);
  });
}
