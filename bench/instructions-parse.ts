/**
 * Reading what the instruction and syscall measurements leave behind: callgrind's output file (total
 * instructions, calls of named functions), `perf trace -S` / `strace -C` output (syscalls by name and the bytes
 * send calls returned), `ss -ti` (bytes a socket has sent), and the figures and verdicts derived from them.
 * Pure text in, numbers out: nothing here runs a process.
 */

/** What a callgrind dump says: instructions executed (Ir) in the instrumented time, and calls of some functions. */
export interface CallgrindCounts {
  ir: number;
  /** Calls of each function asked for (by its symbol name), summed over every caller. */
  calls: Record<string, number>;
}

/**
 * Parses a callgrind output file (format version 1, with or without name compression). The total comes from
 * the `totals:` line (or `summary:` when there is no totals line; a dump taken while instrumentation was off
 * has `summary: 0` and the real figure in `totals:`). Calls come from the `calls=N …` lines after a `cfn=`
 * naming one of `functions`.
 */
export function parseCallgrind(text: string, functions: readonly string[]): CallgrindCounts {
  const names = new Map<string, string>(); // compressed id "(216)" → name
  const calls: Record<string, number> = Object.fromEntries(functions.map((f) => [f, 0]));
  let totals: number | undefined;
  let summary: number | undefined;
  let callee: string | undefined;
  let sawHeader = false;
  const nameOf = (spec: string): string => {
    const m = /^(\(\d+\))(?:\s+(.*))?$/.exec(spec.trim());
    if (!m) return spec.trim();
    if (m[2] !== undefined) names.set(m[1]!, m[2]);
    return names.get(m[1]!) ?? m[1]!;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('# callgrind format') || line.startsWith('events:')) sawHeader = true;
    if (line.startsWith('fn=')) {
      nameOf(line.slice(3));
      callee = undefined;
    } else if (line.startsWith('cfn=')) {
      callee = nameOf(line.slice(4));
    } else if (line.startsWith('calls=')) {
      if (callee !== undefined && callee in calls) calls[callee]! += Number(/^calls=(\d+)/.exec(line)?.[1] ?? 0);
      callee = undefined;
    } else if (line.startsWith('totals:')) {
      totals = Number(line.slice(7).trim().split(/\s+/)[0]);
    } else if (line.startsWith('summary:')) {
      summary = Number(line.slice(8).trim().split(/\s+/)[0]);
    }
  }
  const ir = totals ?? summary;
  if (!sawHeader || ir === undefined || !Number.isFinite(ir)) throw new Error('not a callgrind output file (no events:/totals: lines)');
  return { ir, calls };
}

/** Syscalls by name, summed over every thread of the process. */
export type SyscallCounts = Record<string, number>;

/**
 * The summary of `perf trace -s` / `-S`: one table per thread ("node (1234), 85608 events, …") of
 * `syscall calls errors total min avg max stddev`; the calls are summed over the threads.
 */
export function parsePerfTraceSummary(text: string): SyscallCounts {
  const at = text.indexOf('Summary of events:');
  if (at < 0) throw new Error('no "Summary of events:" in the perf trace output');
  const out: SyscallCounts = {};
  for (const line of text.slice(at).split('\n')) {
    const m = /^\s+([a-z_][a-z0-9_]*)\s+(\d+)\s+(\d+)\s+[\d.]+\s/.exec(line);
    if (m && m[1] !== 'syscall') out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

/** The summary table of `strace -c` / `-C` (`% time seconds usecs/call calls errors syscall`), without its total row. */
export function parseStraceSummary(text: string): SyscallCounts {
  const at = text.search(/^% time\s+seconds/m);
  if (at < 0) throw new Error('no "% time seconds …" summary in the strace output');
  const out: SyscallCounts = {};
  for (const line of text.slice(at).split('\n')) {
    // usecs/call is blank for a syscall that took no measurable time, errors is blank when there were none.
    const m = /^\s*[\d.]+\s+[\d.]+\s+(?:\d+\s+)?(\d+)\s+(?:\d+\s+)?([a-z_][a-z0-9_]*)\s*$/.exec(line);
    if (m && m[2] !== 'total') out[m[2]!] = (out[m[2]!] ?? 0) + Number(m[1]);
  }
  return out;
}

/**
 * The bytes the traced send calls returned (`sendto(…) = 256` lines, in perf trace's or strace's notation,
 * including strace's `<... sendto resumed>` halves): divided by the message size, the messages echoed while
 * tracing, exactly.
 */
export function sentBytesInTrace(text: string): number {
  let bytes = 0;
  for (const line of text.split('\n')) {
    if (!/\b(sendto|send)(\(|\(\)| resumed>)/.test(line) || /<unfinished \.\.\.>\s*$/.test(line)) continue;
    const m = /\)\s+=\s+(\d+)\s*$/.exec(line);
    if (m) bytes += Number(m[1]);
  }
  return bytes;
}

/** The sum of `bytes_sent:N` over the sockets `ss -tin` listed (the server's side of every connection). */
export function ssBytesSent(text: string): number {
  let sum = 0;
  for (const m of text.matchAll(/\bbytes_sent:(\d+)/g)) sum += Number(m[1]);
  return sum;
}

/**
 * Messages echoed while callgrind was counting. The server's bytes sent (ss) are read just before and just
 * after each `callgrind_control --instr=on/off`; the toggle happened somewhere between the two readings, so the
 * window's bytes lie between (before off − after on) and (after off − before on). The estimate is the middle.
 */
export interface WindowMessages {
  msgs: number;
  /** Half the width of the bounds, in % of `msgs`: how far the true count can be from the estimate at most. */
  boundPct: number;
}

export function windowMessages(bytes: { onBefore: number; onAfter: number; offBefore: number; offAfter: number }, size: number): WindowMessages {
  const lo = (bytes.offBefore - bytes.onAfter) / size;
  const hi = (bytes.offAfter - bytes.onBefore) / size;
  const msgs = (lo + hi) / 2;
  return { msgs, boundPct: msgs > 0 ? ((hi - lo) / 2 / msgs) * 100 : Infinity };
}

/** The figures of one server under callgrind in one scenario. */
export interface InstructionFigures {
  irPerMsg: number;
  irPerSend: number;
  msgsPerSend: number;
}

export function instructionFigures(ir: number, sends: number, msgs: number): InstructionFigures {
  return { irPerMsg: ir / msgs, irPerSend: ir / sends, msgsPerSend: msgs / sends };
}

/**
 * Whether two servers' batching (messages per send) is close enough for their instructions per message to be
 * compared: within 2 %. Under callgrind the server is the bottleneck, so batching is set by the scenario's
 * depth and both servers batch alike; a server that batched more would look cheaper per message for that
 * reason alone.
 */
export const BATCHING_TOLERANCE = 0.02;

export function batchingDiffers(a: number, b: number): boolean {
  return Math.abs(a / b - 1) > BATCHING_TOLERANCE;
}

/** The target: iomux's user-space instructions per message at most this many times the FFI floor's. */
export const INSTRUCTION_LIMIT = 1.03;

export interface InstructionVerdict {
  ratio: number;
  met: boolean;
  /** "2.1 % under the limit", "12 % over the limit". */
  margin: string;
  /** Set when batching differs by more than BATCHING_TOLERANCE: the ratio then says less about the code. */
  caveat?: string;
}

export function instructionVerdict(iomux: InstructionFigures, floor: InstructionFigures, limit = INSTRUCTION_LIMIT): InstructionVerdict {
  const ratio = iomux.irPerMsg / floor.irPerMsg;
  const met = ratio <= limit;
  const d = met ? 1 - ratio / limit : ratio / limit - 1;
  const pct = `${(d * 100).toFixed(d < 0.1 ? 1 : 0)} %`;
  const v: InstructionVerdict = { ratio, met, margin: met ? `${pct} under the limit` : `${pct} over the limit` };
  if (batchingDiffers(iomux.msgsPerSend, floor.msgsPerSend)) {
    v.caveat = `batching differs: ${iomux.msgsPerSend.toFixed(2)} vs ${floor.msgsPerSend.toFixed(2)} messages per send`;
  }
  return v;
}
