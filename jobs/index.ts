import type { AnyJobDefinition } from '../src/jobs/job.ts';
import { cancelRequestJob } from './cancel-request.ts';
import { executeRequestJob } from './execute-request.ts';
import { expireRequestJob } from './expire-request.ts';
import { historyJob } from './history.ts';
import { memoryDailyJob } from './memory-daily.ts';
import { memoryReportJob } from './memory-report.ts';
import { memorySampleJob } from './memory-sample.ts';
import { planRequestJob } from './plan-request.ts';
import { statusJob } from './status.ts';
import { statusWatchJob } from './status-watch.ts';

/** Jobs on the shared read queue, by name. */
export const readJobs: readonly AnyJobDefinition[] = [statusJob, planRequestJob, expireRequestJob, cancelRequestJob, historyJob, memorySampleJob, memoryReportJob, memoryDailyJob, statusWatchJob];

/** Jobs on each cluster's change queue (one at a time per cluster). */
export const changeJobs: readonly AnyJobDefinition[] = [executeRequestJob];
