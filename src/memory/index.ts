/**
 * keepalived memory: samples, parsers for what hosts print, the cron-log importer, the analysis and
 * its `vip_memory` payload, the per-day table, the Redis codec and the chart. Everything here is pure
 * (text and numbers in, values out) except the PNG render, which only uses the CPU.
 *
 * The live parts are imported from their own files and never from here: `memory-store.ts` (Redis),
 * `collect-memory-sample.ts` (SSH), `scheduler-runtime.ts` (BullMQ), `memory-runtime.ts` (wiring).
 */
export * from './sample.ts';
export * from './bytes.ts';
export * from './timezone.ts';
export * from './parse-cgroup-memory.ts';
export * from './parse-smaps-rollup.ts';
export * from './parse-ps.ts';
export * from './parse-systemd-status-log.ts';
export * from './parse-ps-mem-log.ts';
export * from './import-cron-logs.ts';
export * from './trend.ts';
export * from './process-roles.ts';
export * from './series.ts';
export * from './memory-report.ts';
export { analyseMemory, analyseMemoryByNode, summariseMetric } from './analyse.ts';
export * from './vip-memory-payload.ts';
export * from './daily.ts';
export * from './storage-codec.ts';
export * from './chart.ts';
export * from './synthetic.ts';
export * from './assemble-sample.ts';
export * from './memory-window.ts';
export * from './schedule.ts';
export * from './render-memory-message.ts';
export * from './build-memory-report.ts';
export * from './report-scope.ts';
