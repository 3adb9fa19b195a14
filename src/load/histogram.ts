/**
 * A latency histogram that records without allocating: log-spaced buckets 1 % wide from 0.1 µs to 100 s,
 * so a percentile read from it is within 1 % of the true value. Min, max, count and mean are exact.
 */
const MIN_US = 0.1;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(1e8 / MIN_US) / LOG_GROWTH) + 1;

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Adds one sample, in microseconds. */
  record(us: number): void {
    const v = us < MIN_US ? MIN_US : us;
    let i = Math.floor(Math.log(v / MIN_US) / LOG_GROWTH);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.#counts[i]!++;
    this.#count++;
    this.#sum += us;
    if (us < this.#min) this.#min = us;
    if (us > this.#max) this.#max = us;
  }

  get count(): number {
    return this.#count;
  }

  get min(): number {
    return this.#count ? this.#min : 0;
  }

  get max(): number {
    return this.#max;
  }

  get mean(): number {
    return this.#count ? this.#sum / this.#count : 0;
  }

  /**
   * The value below which `p` percent of the samples lie (0 < p ≤ 100), as the geometric middle of its
   * bucket, clamped to [min, max]; 0 with no samples.
   */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        const mid = MIN_US * GROWTH ** (i + 0.5);
        return Math.min(this.#max, Math.max(this.#min, mid));
      }
    }
    return this.#max;
  }
}
