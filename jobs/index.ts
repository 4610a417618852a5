import type { AnyJobDefinition } from '../src/jobs/job.ts';
import { statusJob } from './status.ts';

/** Every job type the worker runs, by name. */
export const jobs: readonly AnyJobDefinition[] = [statusJob];
