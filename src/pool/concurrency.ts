/**
 * How many clones a pool makes at once, learned from the clones it makes. One more clone at a
 * time only pays while the server turns it into more clones per second: past that point (the
 * disk or the CPUs are saturated) every clone in flight just takes longer, and a lease waiting
 * for the next one waits longer too. Measured on the 2-core development machine with fsync on
 * (`node --import tsx bench/clone-concurrency.ts`, a 33 MB template, load average ~20): 1.00
 * clones/s one at a time, 1.14 two at a time, 2.0 three or four at a time; on another machine or
 * another load the answer differs, hence a measurement per pool rather than a constant.
 *
 * The rule is a small hill climb on clones per second: a level is judged after a few clones made
 * at it; one clone fewer at a time is taken when it sustains (nearly) as many per second, one
 * more is tried when this level beats the one below by a clear margin, or when the level above
 * has not been measured (lately: old measurements are forgotten, the load changes).
 */

/** Never more than this many at once (FILE_COPY clones queue on a server-wide lock anyway). */
export const MAX_CREATING = 4;
/** Clones measured at a level before it is judged. */
const SAMPLES = 3;
/** One more clone at a time must bring this many times the clones per second. */
const GAIN = 1.2;
/** Measurements of other levels are forgotten after this many clones, so the climb looks again. */
const FORGET_AFTER = 24;

interface Rate {
  perSecond: number;
  samples: number;
  at: number;
}

export class CloneConcurrency {
  /** Clones to make at once now. */
  limit = 2;
  private readonly rates = new Map<number, Rate>();
  private clones = 0;

  /** A clone finished: `level` clones were being made when it started (itself included), it took `durationMs`. */
  record(level: number, durationMs: number): void {
    this.clones++;
    const perSecond = (Math.min(level, MAX_CREATING) * 1000) / Math.max(1, durationMs);
    const known = this.rates.get(level);
    // A moving average: one slow clone (a checkpoint, a neighbour's burst) does not decide alone.
    this.rates.set(level, known ? { perSecond: known.perSecond * 0.6 + perSecond * 0.4, samples: known.samples + 1, at: this.clones } : { perSecond, samples: 1, at: this.clones });
    for (const [other, rate] of this.rates) if (other !== this.limit && this.clones - rate.at > FORGET_AFTER) this.rates.delete(other);
    this.judge();
  }

  private judge(): void {
    const here = this.rates.get(this.limit);
    if (!here || here.samples < SAMPLES) return;
    const below = this.rates.get(this.limit - 1);
    if (below && below.samples >= SAMPLES && below.perSecond * GAIN > here.perSecond) {
      this.limit--;
      return;
    }
    const above = this.rates.get(this.limit + 1);
    if (this.limit < MAX_CREATING && (!above || above.perSecond > here.perSecond * GAIN)) this.limit++;
  }
}
