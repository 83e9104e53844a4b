#!/usr/bin/env node
// Measures `compare` against separate replays (issue 6's target: 8 configurations on 2 cores in
// at most 0.6× the time of 8 replays). A figure, not a test: vitest does not run it.
//
//   npm run build && node test/compare/measure-speedup.mjs [EVENTS] [WORKLOAD] [JOBS] [REPEATS]
//
// `compare` runs in a fresh process (as the command would). Two baselines: `runReplay` called 8
// times in one process (each decodes the trace, as 8 `memreplay replay` runs would, but without 8
// process start-ups and cold JITs: the conservative one), and 8 `memreplay replay` processes one
// after the other (what a user would run). Each figure is the median of REPEATS runs (default 3):
// the machine may be shared. The runs of one in-process compare are checked against the baseline.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReplay } from '../../dist/analyze.js';
import { expandSweep, replayOptionsOf } from '../../dist/compare/configurations.js';
import { runCompare } from '../../dist/compare/index.js';
import { writeTrace } from '../../dist/trace/write.js';
import { workloads } from '../../dist/workload/index.js';
import { createWriteStream } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const events = Number(process.argv[2] ?? 1_000_000);
const workloadName = process.argv[3] ?? 'web';
const jobs = Number(process.argv[4] ?? 2);
const repeats = Number(process.argv[5] ?? 3);
const BIN = fileURLToPath(new URL('../../bin/memreplay.js', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'memreplay-speedup-'));
const trace = join(dir, `${workloadName}.jsonl`);
const workload = workloads[workloadName];
const options = { events, seed: 1 };
const out = createWriteStream(trace);
await writeTrace(workload.generate(options), workload.generateHeader(options), 'jsonl', out, { gzip: false, end: true });
await new Promise((resolve) => out.on('close', resolve));

const configurations = expandSweep({ policies: ['cpython-3.12', 'cpython-3.9'], thresholdLists: [[100, 700, 10000, 100000]] });

const script = join(dir, 'compare.mjs');
writeFileSync(
  script,
  `import { runCompare } from ${JSON.stringify(new URL('../../dist/compare/index.js', import.meta.url).href)};
await runCompare({ trace: ${JSON.stringify(trace)}, configurations: ${JSON.stringify(configurations)}, objectives: ['examined', 'peak-bytes'], jobs: ${jobs} });
`,
);

const time = async (fn) => {
  const start = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - start) / 1000 };
};
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const separateRuns = [];
const processRuns = [];
const compareRuns = [];
let separate;
let compared;
for (let r = 0; r < repeats; r++) {
  separate = await time(async () => {
    const reports = [];
    for (const entry of configurations) reports.push((await runReplay({ trace, ...replayOptionsOf(entry) })).report);
    return reports;
  });
  separateRuns.push(separate.seconds);
  // In a fresh process, as `memreplay compare` runs: no JIT warmed up by the baselines.
  const fresh = await time(() => {
    const child = spawnSync(process.execPath, [script], { stdio: 'inherit' });
    if (child.status !== 0) throw new Error('compare failed');
  });
  compareRuns.push(fresh.seconds);
  if (r === 0) compared = await time(() => runCompare({ trace, configurations, objectives: ['examined', 'peak-bytes'], jobs }));
  const processes = await time(() => {
    for (const entry of configurations) {
      const args = ['replay', trace, '--policy', entry.policy, '--threshold', entry.thresholds.join(',')];
      const child = spawnSync(process.execPath, [BIN, ...args], { stdio: 'ignore' });
      if (child.status !== 0) throw new Error(`memreplay ${args.join(' ')} failed`);
    }
  });
  processRuns.push(processes.seconds);
}

const identical = compared.value.runs.every((run, i) => JSON.stringify(run) === JSON.stringify(separate.value[i]));
const result = {
  events,
  workload: workloadName,
  configurations: configurations.length,
  jobs,
  cores: availableParallelism(),
  separateInOneProcessSeconds: Number(median(separateRuns).toFixed(2)),
  separateProcessesSeconds: Number(median(processRuns).toFixed(2)),
  compareSeconds: Number(median(compareRuns).toFixed(2)),
  ratioToOneProcess: Number((median(compareRuns) / median(separateRuns)).toFixed(2)),
  ratioToProcesses: Number((median(compareRuns) / median(processRuns)).toFixed(2)),
  identical,
};
writeFileSync(join(dir, 'result.json'), JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
if (!identical) process.exitCode = 1;
