/**
 * The workload registry: synthetic Python programs that generate valid, deterministic traces.
 * Each module is `{ name, description, generate(options), generateHeader(options) }`
 * (see `workload.ts`); adding one = a file + a line here + a case in `test/workload`.
 */
import { batch } from './batch.js';
import { cacheLeak } from './cache-leak.js';
import { freeze } from './freeze.js';
import { orm } from './orm.js';
import { web } from './web.js';
import type { WorkloadModule } from './workload.js';

export const workloads = {
  web,
  orm,
  'cache-leak': cacheLeak,
  batch,
  freeze,
} satisfies Record<string, WorkloadModule>;

export type WorkloadName = keyof typeof workloads;

export const WORKLOAD_NAMES = Object.keys(workloads) as WorkloadName[];

export function isWorkloadName(value: unknown): value is WorkloadName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(workloads, value);
}

export { checkWorkloadOptions, runWorkload, WORKLOAD_PYTHON_VERSION, type WorkloadModule, type WorkloadOptions } from './workload.js';
export { Mutator, type Handle, type MutatorOptions } from './mutator.js';
export { SeededRandom } from './random.js';

export { sampleTraces, WEB_SAMPLE_SEED, type SampleTrace, type SampleTraceName } from './samples.js';
