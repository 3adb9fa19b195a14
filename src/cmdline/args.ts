/**
 * The command-line framework of every `iomux` command (and of the repository's benchmark tools): one
 * declarative spec per command gives both the parser and the `--help` text; every user error (unknown
 * option, missing or bad value) is one line "iomux <command>: <message>" and exit status 2.
 *
 * The parser is our own rather than node:util's parseArgs, because parseArgs refuses an option value that
 * starts with a dash (`--port -1` is "argument is ambiguous", three lines, before the option's own range check
 * could say what is allowed). Here a value that looks like a number (`-1`, `-0.5`) is taken as the value, so
 * the option's converter reports it ("--port must be an integer from 0 to 65535 (got -1)").
 */

/** A bad command line. `runCommand` prints "iomux <command>: <message>" and returns status 2. */
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
  /** The program the command belongs to, as errors and the usage line show it (default "iomux"). */
  program?: string;
  /** "echo-server": the name errors and the usage line show after the program's. */
  name: string;
  /** What the command does (may span lines). */
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

/** "iomux echo-server": the program and the command, as errors and the usage line begin. */
function commandName(spec: CommandSpec): string {
  return `${spec.program ?? 'iomux'} ${spec.name}`;
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help and exit' };

function allOptions(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, help: HELP };
}

function optionLabel(name: string, o: OptionSpec): string {
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}`;
  return o.type === 'string' ? `${flag} ${o.metavar ?? 'VALUE'}` : flag;
}

/** "usage: iomux echo-server [--host HOST] [--port PORT] …", wrapped at 100 columns. */
export function usageLine(spec: CommandSpec): string {
  const parts = Object.entries(spec.options).map(([name, o]) => `[--${name}${o.type === 'string' ? ` ${o.metavar ?? 'VALUE'}` : ''}]`);
  if (spec.positionals) parts.push(spec.positionals);
  return wrap(`usage: ${commandName(spec)} `, parts);
}

function wrap(head: string, parts: string[]): string {
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

/** A value that starts with a dash but is a number (`-1`, `-0.5`, `-.5`, `-inf`): a value, not an option. */
const NEGATIVE_NUMBER = /^-(\.?\d|inf|nan)/i;

/**
 * Parses `argv` strictly against `spec`. `--name VALUE`, `--name=VALUE`, `-s VALUE` for string options;
 * `--name`, `-s` for flags; `--` ends the options. A repeated option keeps its last value. Unknown options,
 * missing values and stray positionals are UsageErrors.
 */
export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options = allOptions(spec);
  const byShort = new Map(Object.entries(options).filter(([, o]) => o.short).map(([name, o]) => [o.short!, name]));
  const values: ParsedArgs['values'] = {};
  const positionals: string[] = [];
  const hint = `(${commandName(spec)} --help lists the options)`;
  let optionsEnded = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (optionsEnded || arg === '-' || !arg.startsWith('-') || (spec.positionals && NEGATIVE_NUMBER.test(arg))) {
      if (spec.positionals === undefined) throw new UsageError(`unexpected argument '${arg}' ${hint}`);
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      optionsEnded = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const key = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : arg.slice(1, eq < 0 ? undefined : eq);
    const name = arg.startsWith('--') ? key : byShort.get(key);
    const option = name === undefined ? undefined : options[name];
    if (name === undefined || option === undefined || key === '') throw new UsageError(`unknown option '${arg}' ${hint}`);
    const shown = `--${name}`;
    if (option.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`${shown} takes no value (got '${arg}')`);
      values[name] = true;
      continue;
    }
    if (eq >= 0) {
      values[name] = arg.slice(eq + 1);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('-') && next !== '-' && !NEGATIVE_NUMBER.test(next))) {
      throw new UsageError(`${shown} needs a value (${shown} ${option.metavar ?? 'VALUE'})`);
    }
    values[name] = next;
    i++;
  }
  return { values, positionals };
}

/** Prints a usage error of the command as its one line; the status is 2. */
export function reportUsageError(spec: CommandSpec, err: UsageError): number {
  process.stderr.write(`${commandName(spec)}: ${err.message}\n`);
  return 2;
}

/**
 * Runs a command: `--help` prints the help (status 0); otherwise `body` gets the parsed arguments, and a
 * UsageError it throws (or the parser's) becomes one line on stderr and status 2.
 */
export async function runCommand(spec: CommandSpec, argv: readonly string[], body: (args: ParsedArgs) => Promise<number>): Promise<number> {
  try {
    const args = parseCommandArgs(spec, argv);
    if (args.values.help === true) {
      process.stdout.write(helpText(spec));
      return 0;
    }
    return await body(args);
  } catch (err) {
    if (err instanceof UsageError) return reportUsageError(spec, err);
    throw err;
  }
}

/** A command of a multi-command program, loaded only when run (so `--help` stays fast). */
export interface Subcommand {
  summary: string;
  load(): Promise<{ main(argv: string[]): Promise<number> }>;
}

/** The usage of a multi-command program: its usage line, one line per command, and `epilog`. */
export function commandsUsage(program: string, commands: Record<string, Subcommand>, epilog = ''): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: ${program} <command> [options]   (${program} <command> --help for its options)\n\n` +
    `commands:\n${lines.join('\n')}\n${epilog ? `\n${epilog.trimEnd()}\n` : ''}`;
}

/**
 * Runs `argv[0]` of `commands` with the rest of argv. `--help` prints the usage on stdout (status 0); no
 * command prints it on stderr, and an unknown one a line naming it (status 2).
 */
export async function runSubcommand(
  program: string, commands: Record<string, Subcommand>, argv: readonly string[], epilog = '',
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(commandsUsage(program, commands, epilog));
    return 0;
  }
  if (name === undefined) {
    process.stderr.write(`${program}: a command is required\n${commandsUsage(program, commands, epilog)}`);
    return 2;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command === undefined) {
    process.stderr.write(`${program}: unknown command '${name}' (${program} --help lists the commands)\n`);
    return 2;
  }
  return (await command.load()).main(rest);
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
  const n = /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
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
  const m = /^\s*(-?\d+)\s*([a-z]*)\s*$/i.exec(v);
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

/** A comma-separated, non-empty subset of `choices` (all of them by default), in the order given. */
export function listOption<C extends string>(args: ParsedArgs, name: string, choices: readonly C[]): C[] {
  const v = raw(args, name);
  if (v === undefined) return [...choices];
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.find((s) => !(choices as readonly string[]).includes(s));
  if (bad !== undefined || items.length === 0) {
    throw new UsageError(`--${name} takes a comma-separated list of ${choices.join(', ')} (got '${v}')`);
  }
  return items as C[];
}
