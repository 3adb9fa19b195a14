/** A one-line progress bar redrawn in place on a terminal. */
import type { WriteStream } from 'node:tty';

export class ProgressBar {
  readonly #out: WriteStream;
  #shown = false;

  constructor(out: WriteStream) {
    this.#out = out;
  }

  /** Redraws the bar: `fraction` (0..1) filled, then `text`. */
  update(fraction: number, text: string): void {
    const columns = this.#out.columns || 80;
    const width = Math.max(10, Math.min(30, columns - text.length - 10));
    const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${text}`;
    this.#out.write(`\r\x1b[K${line.slice(0, columns - 1)}`);
    this.#shown = true;
  }

  /** Erases the bar. */
  clear(): void {
    if (this.#shown) this.#out.write('\r\x1b[K');
    this.#shown = false;
  }
}
