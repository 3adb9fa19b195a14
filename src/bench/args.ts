/** Command-line option parsing shared by the benchmark commands: every error names its option. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: boolean }>>;

/** A bad command line; the command prints the message and exits with status 2. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs in strict mode, its errors turned into UsageError. */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** An integer option in [min, max]; `undefined` gives `fallback`. */
export function intOption(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value)) throw new UsageError(`--${name} must be an integer (got '${raw}')`);
  if (value < min || value > max) {
    throw new UsageError(`--${name} must be between ${min.toLocaleString('en-US')} and ${max.toLocaleString('en-US')} (got ${raw})`);
  }
  return value;
}

/** A number option (seconds and the like) in [min, max]. */
export function numberOption(name: string, raw: string | undefined, fallback: number, min: number, max = Number.MAX_VALUE): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number (got '${raw}')`);
  if (value < min || value > max) throw new UsageError(`--${name} must be between ${min} and ${max} (got ${raw})`);
  return value;
}

/** Runs a command body, turning UsageError into "prog: message" (and where to find help) + exit status 2. */
export async function runCommand(prog: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${prog}: ${err.message}\n(\`${prog} --help\` lists the options)\n`);
      return 2;
    }
    throw err;
  }
}
