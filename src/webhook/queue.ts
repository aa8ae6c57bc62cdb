/** What the queue needs to know about a deploy job. */
export interface QueueJob {
  /** One deploy per remote at a time. */
  remote: string;
  /**
   * Jobs with the same key never run together either: deploys of one environment build the
   * same template on the local server, and each must dump the commit it was asked for.
   */
  templateKey: string;
}

export interface DeployQueueOptions<J extends QueueJob> {
  maxParallel: number;
  run: (job: J) => Promise<void>;
  /** A waiting job replaced by a newer one for the same remote (it never runs). */
  onSuperseded: (job: J, by: J) => void;
  /** Called when the number of waiting or running jobs changes. */
  onChange?: () => void;
}

/**
 * Deploy jobs: one per remote at a time, different remotes in parallel up to `maxParallel`.
 * A push for a remote that already has a job waiting replaces that job (coalescing to the
 * newest commit); the replaced one is reported as superseded.
 */
export class DeployQueue<J extends QueueJob> {
  private readonly waiting: J[] = [];
  private readonly running = new Set<J>();
  private readonly idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: DeployQueueOptions<J>) {}

  get depth(): number {
    return this.waiting.length;
  }

  get active(): J[] {
    return [...this.running];
  }

  get pending(): J[] {
    return [...this.waiting];
  }

  add(job: J): void {
    if (this.stopped) throw new Error('the deploy queue is stopped');
    const index = this.waiting.findIndex((other) => other.remote === job.remote);
    if (index >= 0) {
      const older = this.waiting[index] as J;
      this.waiting.splice(index, 1);
      this.options.onSuperseded(older, job);
    }
    this.waiting.push(job);
    this.pump();
  }

  private canStart(job: J): boolean {
    for (const other of this.running) if (other.remote === job.remote || other.templateKey === job.templateKey) return false;
    return true;
  }

  private pump(): void {
    if (!this.stopped) {
      for (let i = 0; i < this.waiting.length && this.running.size < this.options.maxParallel; ) {
        const job = this.waiting[i] as J;
        if (!this.canStart(job)) {
          i++;
          continue;
        }
        this.waiting.splice(i, 1);
        this.running.add(job);
        void this.options
          .run(job)
          .catch(() => undefined)
          .finally(() => {
            this.running.delete(job);
            this.pump();
          });
      }
    }
    this.options.onChange?.();
    if (this.running.size === 0 && (this.stopped || this.waiting.length === 0)) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Starts nothing more and hands back the jobs that were still waiting. */
  stop(): J[] {
    this.stopped = true;
    const left = this.waiting.splice(0);
    this.pump();
    return left;
  }

  /** Resolves when no job is running (and, unless stopped, none is waiting). */
  idle(): Promise<void> {
    if (this.running.size === 0 && (this.stopped || this.waiting.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
