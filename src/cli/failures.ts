/**
 * How a command reports a failure the user caused (a busy port, a name that does not resolve, a missing
 * library): one line on stderr, "iomux COMMAND: what failed: why", with the errno's name, and exit status 1.
 * A stack trace is for bugs only (main.ts prints one for an error no command expected).
 */

/** A failure, on stderr: "iomux COMMAND: MESSAGE". */
export function complain(command: string, message: string): void {
  process.stderr.write(`iomux ${command}: ${message}\n`);
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
}

/**
 * Why something failed, in one line: an OSError's "[Errno 98] Address already in use" with its errno name
 * added, "(EADDRINUSE)" (errno numbers differ between systems, names do not); a Node system error's message,
 * which already names its code ("getaddrinfo ENOTFOUND host"); anything else as "Name: message". Works on
 * errors cloned from a worker thread too, which keep their name, message and code but not their class.
 */
export function errorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { name, message, code } = err as ErrorLike;
  const text = (typeof message === 'string' ? message : String(err)).replaceAll(/\s*\n\s*/g, ' ');
  if (typeof code === 'string' && code !== '') return text.includes(code) ? text : `${text} (${code})`;
  if (text.startsWith('[Errno ')) return text;
  return typeof name === 'string' && name !== '' ? `${name}: ${text}` : text;
}

/**
 * Whether `err` is a failure of the system rather than a bug: an OSError (or one cloned from a worker), or a
 * Node system error such as getaddrinfo's ENOTFOUND. Both carry an errno name in `code`.
 */
export function isSystemError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code } = err as ErrorLike;
  // Node's own ERR_* codes mark misuse of an API (a bug of ours), not a failure of the system.
  return typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code) && !code.startsWith('ERR_');
}
