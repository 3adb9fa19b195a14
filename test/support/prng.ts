/** The seeded randomness of the fuzz children: a failing sequence is replayed from its seed. */

/** A seeded source of numbers in [0, 1) (mulberry32: small, fast, good enough to vary call sequences). */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `int(n)`: a whole number in [0, n); `pick(items)`: one of them (undefined when there is none). */
export function choosers(random: () => number): {
  int: (n: number) => number;
  pick: <T>(items: readonly T[]) => T | undefined;
} {
  const int = (n: number): number => Math.floor(random() * n);
  return { int, pick: <T>(items: readonly T[]): T | undefined => (items.length === 0 ? undefined : items[int(items.length)]) };
}

/**
 * The last 40 operations of a fuzz child (`note`), printed with its seed when it fails (`fail` exits 1), so a
 * failure can be read and replayed.
 */
export function operationLog(label: string, seed: number): { note(text: string): void; fail(why: string): never } {
  const log: string[] = [];
  return {
    note(text: string): void {
      log.push(text);
      if (log.length > 40) log.shift();
    },
    fail(why: string): never {
      console.error(`${label} seed ${seed} failed: ${why}\nlast operations:\n  ${log.join('\n  ')}`);
      process.exit(1);
    },
  };
}
