/**
 * Command-line parsing for the `iomux` commands, over node:util's parseArgs: one declarative spec per command
 * gives both the parser and the `--help` text, and every bad value becomes a UsageError naming its option
 * (the command then prints it with the usage line and exits with status 2).
 */
import { parseArgs } from 'node:util';

/** A bad command line. `runCommand` prints "iomux <command>: <message>" and the usage line, status 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

export interface OptionSpec {
  /** Boolean options are flags; string options take a value (numbers are converted by the command). */
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in the help text ("SEC", "N"). */
  metavar?: string;
  /** What the option does, including its default; one line in the help text. */
  help: string;
}

export interface CommandSpec {
  /** "echo-server" */
  name: string;
  /** One sentence: what the command does. */
  summary: string;
  /** Positional arguments as shown in the usage line ("[PART ...]"), if the command takes any. */
  positionals?: string;
  /** Extra paragraphs printed after the option list. */
  epilog?: string;
  options: Record<string, OptionSpec>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help and exit' };

function allOptions(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, help: HELP };
}

function optionLabel(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}`;
  return o.type === 'string' ? `${flag} ${o.metavar ?? 'VALUE'}` : flag;
}

/** "usage: iomux echo-server [--host HOST] [--port PORT] …" */
export function usageLine(spec: CommandSpec): string {
  const parts = Object.entries(spec.options).map(([name, o]) => `[--${name}${o.type === 'string' ? ` ${o.metavar ?? 'VALUE'}` : ''}]`);
  if (spec.positionals) parts.push(spec.positionals);
  const head = `usage: iomux ${spec.name} `;
  const lines: string[] = [];
  let line = head;
  for (const part of parts) {
    if (line.length + part.length + 1 > 100 && line.trim() !== head.trim()) {
      lines.push(line.trimEnd());
      line = ' '.repeat(head.length);
    }
    line += `${part} `;
  }
  lines.push(line.trimEnd());
  return `${lines.join('\n')}\n`;
}

/** The full `--help` text. */
export function helpText(spec: CommandSpec): string {
  const options = allOptions(spec);
  const labels = Object.entries(options).map(([name, o]) => optionLabel(name, o));
  const width = Math.max(...labels.map((l) => l.length));
  const rows = Object.values(options).map((o, i) => `  ${labels[i]!.padEnd(width)}  ${o.help}`);
  const epilog = spec.epilog ? `\n${spec.epilog.trimEnd()}\n` : '';
  return `${usageLine(spec)}\n${spec.summary}\n\noptions:\n${rows.join('\n')}\n${epilog}`;
}

/** Parses `argv` strictly against `spec`; unknown options, missing values and stray positionals are UsageErrors. */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, o] of Object.entries(allOptions(spec))) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: spec.positionals !== undefined });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Runs a command: `--help` prints the help (status 0); otherwise `body` gets the parsed arguments, and a
 * UsageError it throws is printed with the usage line (status 2).
 */
export async function runCommand(spec: CommandSpec, argv: string[], body: (args: ParsedArgs) => Promise<number>): Promise<number> {
  try {
    const args = parseCommandArgs(spec, argv);
    if (args.values.help === true) {
      process.stdout.write(helpText(spec));
      return 0;
    }
    return await body(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`iomux ${spec.name}: ${err.message}\n${usageLine(spec)}(iomux ${spec.name} --help lists the options)\n`);
      return 2;
    }
    throw err;
  }
}

function raw(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A string option that must not be empty. */
export function stringOption(args: ParsedArgs, name: string, fallback: string): string {
  const v = raw(args, name);
  if (v === undefined) return fallback;
  if (v.trim() === '') throw new UsageError(`--${name} must not be empty`);
  return v;
}

/** An integer option in [min, max]. */
export function intOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const v = raw(args, name);
  if (v === undefined) return fallback;
  // Decimal digits only: Number() would also take ' 80', '0x10', '1e3' and '0b1'.
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got '${v}')`);
  if (n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${v})`);
  return n;
}

/** A number of seconds, finite, in [min, max]; `exclusiveMin` refuses `min` itself. */
export function secondsOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number, exclusiveMin = false): number {
  const v = raw(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  const range = `${exclusiveMin ? 'greater than' : 'at least'} ${min} and at most ${max}`;
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number of seconds (got '${v}')`);
  if (n < min || (exclusiveMin && n === min) || n > max) throw new UsageError(`--${name} must be ${range} seconds (got ${v})`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

/** A byte count: an integer with an optional binary unit (64K, 1M, 1MiB), in [min, max]. */
export function bytesOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const v = raw(args, name);
  if (v === undefined) return fallback;
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`--${name} must be a number of bytes, optionally with K, M or G (got '${v}')`);
  const n = Number(m[1]) * unit;
  if (n < min || n > max) throw new UsageError(`--${name} must be from ${min} to ${max} bytes (got ${v})`);
  return n;
}

/** One of `choices`. */
export function choiceOption<C extends string>(args: ParsedArgs, name: string, fallback: C, choices: readonly C[]): C {
  const v = raw(args, name);
  if (v === undefined) return fallback;
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${choices.join(', ')} (got '${v}')`);
  return v as C;
}
