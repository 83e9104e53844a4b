#!/usr/bin/env node
/**
 * Regenerates the bundled sample traces, traces/<name>.{jsonl,json,csv}, from
 * src/workload/samples.ts. Deterministic: running it again gives the same bytes.
 *
 *   npm run build && node scripts/make-traces.mjs           # write the files
 *   npm run build && node scripts/make-traces.mjs --check   # compare only; exit 1 on a difference
 *
 * test/workload/samples.test.ts checks the same thing without a build.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { traceToString, writeTrace } from '../dist/trace/write.js';
import { sampleTraces } from '../dist/workload/samples.js';

const TRACES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'traces');
const ENCODINGS = ['jsonl', 'json', 'csv'];
const check = process.argv.includes('--check');

let stale = 0;
for (const sample of Object.values(sampleTraces)) {
  const events = sample.events();
  for (const format of ENCODINGS) {
    const file = join(TRACES_DIR, `${sample.name}.${format}`);
    if (check) {
      const expected = traceToString(events, sample.header, format);
      const actual = await readFile(file, 'utf8').catch(() => null);
      if (actual !== expected) {
        stale++;
        console.error(`stale: ${file}`);
      }
    } else {
      await writeTrace(events, sample.header, format, createWriteStream(file), { end: true });
      console.log(`wrote ${file} (${events.length} events)`);
    }
  }
}
if (stale > 0) {
  console.error(`${stale} sample trace file(s) differ from what the generator gives; run: npm run build && node scripts/make-traces.mjs`);
  process.exitCode = 1;
}
