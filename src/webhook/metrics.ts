import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The server's Prometheus metrics (prom-client), in a registry of its own so that several
 * servers in one process (tests, a library user) never share counters.
 */
export class WebhookMetrics {
  readonly registry = new Registry();

  /** Every delivery by provider and what became of it when it was received. */
  readonly deliveries = new Counter({
    name: 'dbfast_webhook_deliveries_total',
    help: 'Webhook deliveries received, by provider and outcome (queued, ping, ignored, duplicate, rejected, invalid, too_large).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Every deploy job by remote and how it ended. */
  readonly deploys = new Counter({
    name: 'dbfast_webhook_deploys_total',
    help: 'Deploys started by webhooks, by remote and outcome (deployed, failed, superseded, cancelled).',
    labelNames: ['remote', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly deployDuration = new Histogram({
    name: 'dbfast_webhook_deploy_duration_seconds',
    help: 'Duration of deploys started by webhooks (fetch, worktree and deploy), by remote and outcome.',
    labelNames: ['remote', 'outcome'] as const,
    buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'dbfast_webhook_queue_depth',
    help: 'Deploys waiting for their remote (or a free slot).',
    registers: [this.registry],
  });

  readonly running = new Gauge({
    name: 'dbfast_webhook_deploys_running',
    help: 'Deploys running now.',
    registers: [this.registry],
  });

  /** The Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
