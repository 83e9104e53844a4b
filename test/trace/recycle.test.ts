import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePolicy } from '../../src/gc/index.js';
import { freeListConfig } from '../../src/pool/free-list.js';
import { createPool } from '../../src/pool/index.js';
import { replay, replayChunks } from '../../src/replay/index.js';
import { buildReport } from '../../src/report/json.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { openTrace, readAllChunks } from '../../src/trace/index.js';
import type { EventChunk } from '../../src/trace/types.js';

/**
 * `replay` reads chunks with `recycle: true`: the decoder then reuses the memory of each chunk
 * (and of each file buffer) once the next is asked for. Replaying so must give exactly what
 * replaying chunks that were each freshly allocated and kept gives.
 */

const dir = mkdtempSync(join(tmpdir(), 'memreplay-recycle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A trace of several file buffers (256 KiB) and, with small chunks, many full chunks. */
function writeTrace(path: string): void {
  const lines = ['{"format":"memreplay","version":1,"meta":{"python":"3.12.1"}}'];
  for (let k = 0; k < 30_000; k++) {
    lines.push(`{"op":"alloc","id":${k},"type":"${k % 3 === 0 ? 'dict' : 'Node'}","size":${64 + (k % 9) * 8},"site":"app.py:${k % 17}","t":${k}}`);
    if (k > 0) lines.push(`{"op":"link","src":${k},"dst":${k - 1}}`);
    if (k % 5 === 0) lines.push(`{"op":"alloc","id":"s${k}","type":"str","size":50,"tracked":false,"t":${k}}`, `{"op":"link","src":${k},"dst":"s${k}"}`, `{"op":"decref","id":"s${k}"}`);
    if (k % 7 === 3) lines.push(`{"op":"mark","label":"m${k}","t":${k}}`);
    if (k > 1 && k % 3 !== 0) lines.push(`{"op":"decref","id":${k - 1}}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

async function reportOf(path: string, how: 'recycled' | 'kept', decodeInWorker: 'never' | 'always'): Promise<string> {
  const diagnostics = new Diagnostics();
  const policy = resolvePolicy('cpython-3.12');
  const settings = { policy, oldObjects: 0, automaticCollection: true, freeLists: freeListConfig(policy.release.freeLists), pool: createPool('pymalloc-3.11', {}), diagnostics };
  const trace = await openTrace(path, { diagnostics, chunkRows: 1000, decodeInWorker });
  let result;
  if (how === 'recycled') {
    result = await replay(trace, settings);
  } else {
    const chunks: EventChunk[] = await readAllChunks(trace);
    result = replayChunks({ ...trace, chunks: () => chunks }, settings);
  }
  const config = { thresholds: [], oldObjects: 0, automaticCollection: true, freeLists: policy.release.freeLists, pool: 'pymalloc-3.11', poolParams: {} };
  return JSON.stringify(buildReport(result, { toolVersion: 'test', skippedByKind: diagnostics.skippedSummary(), config }));
}

describe('trace/recycling chunks and file buffers', () => {
  const path = join(dir, 'trace.jsonl');
  writeTrace(path);

  it.each(['never', 'always'] as const)('replaying with reuse gives the report of replaying kept chunks (scan worker: %s)', async (decodeInWorker) => {
    const kept = await reportOf(path, 'kept', decodeInWorker);
    expect(JSON.parse(kept).trace.events).toBeGreaterThan(60_000);
    expect(await reportOf(path, 'recycled', decodeInWorker)).toBe(kept);
  });
});
