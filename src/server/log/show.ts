/** How the event log and the clients show payloads (escaped, quoted, cut to a sane length) and addresses. */

/** How many payload bytes a log line shows before cutting. */
export const PAYLOAD_PREVIEW = 60;

/**
 * `bytes[start, end)` as a double-quoted, escaped string: printable ASCII as is, `"` and `\` escaped, the
 * usual `\n \r \t`, any other byte as `\xNN`. When more than `PAYLOAD_PREVIEW` bytes, or fewer than
 * `total`, are shown, it is cut and the full size added: `"abc…" (65536 bytes)`.
 */
export function showPayload(bytes: Uint8Array, start: number, end: number, total = end - start): string {
  const stop = Math.min(end, start + PAYLOAD_PREVIEW);
  let out = '"';
  for (let i = start; i < stop; i++) {
    const b = bytes[i]!;
    if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return stop - start < total ? `${out}…" (${total} bytes)` : `${out}"`;
}

/**
 * A socket address as the log and the clients show it: `127.0.0.1:55821`, `[::1]:55821`, a path as it is
 * (socket/'s `formatAddress` is another thing: Python's repr, for error messages).
 */
export function showAddress(address: unknown): string {
  if (Array.isArray(address) && address.length >= 2) {
    const [host, port] = address as [unknown, unknown];
    const h = String(host);
    return h.includes(':') ? `[${h}]:${String(port)}` : `${h}:${String(port)}`;
  }
  return typeof address === 'string' && address !== '' ? address : '(unnamed)';
}

/** `1 connection`, `2 connections`: the count and its noun, for log lines. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
