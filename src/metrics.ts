import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The process's Prometheus metrics (GET /metrics). One instance per process, passed to whoever records. */
export class Metrics {
  readonly registry = new Registry();
  readonly commands = new Counter({ name: 'vipbot_commands_total', help: 'Slash commands received', labelNames: ['command', 'outcome'] as const, registers: [this.registry] });
  readonly jobs = new Counter({ name: 'vipbot_jobs_total', help: 'Jobs finished', labelNames: ['job', 'state'] as const, registers: [this.registry] });
  readonly jobDuration = new Histogram({ name: 'vipbot_job_duration_seconds', help: 'Job run time', labelNames: ['job'] as const, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60], registers: [this.registry] });
  readonly jobsByState = new Gauge({ name: 'vipbot_queue_jobs', help: 'Jobs in the queues by state', labelNames: ['queue', 'state'] as const, registers: [this.registry] });
  readonly sshLatency = new Histogram({ name: 'vipbot_ssh_command_seconds', help: 'Node command latency over SSH', labelNames: ['command'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30], registers: [this.registry] });
  readonly sshErrors = new Counter({ name: 'vipbot_ssh_errors_total', help: 'SSH failures by code', labelNames: ['code'] as const, registers: [this.registry] });
  readonly redisUp = new Gauge({ name: 'vipbot_redis_up', help: '1 while Redis answers, 0 during an outage', registers: [this.registry] });
  /** From the status watch's last round (SPEC §9): 1 per cluster and warning code present; for alert rules. */
  readonly warnings = new Gauge({ name: 'vipbot_warnings', help: 'Warnings the status watch sees now, by cluster and code', labelNames: ['cluster', 'code'] as const, registers: [this.registry] });
  readonly approvals = new Counter({ name: 'vipbot_approvals_total', help: 'Approval decisions', labelNames: ['outcome'] as const, registers: [this.registry] });

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vipbot_' });
    this.redisUp.set(1);
  }
}
