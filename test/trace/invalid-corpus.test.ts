import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TraceError, TraceErrors } from '../../src/errors.js';
import { Diagnostics } from '../../src/trace/diagnostics.js';
import { openTrace, readAllChunks } from '../../src/trace/index.js';

/**
 * Every trace in traces/_invalid_/ must fail with exactly the messages in its sibling
 * `<case>.expected.txt` (one message per line, as the CLI prints them). The expected files were
 * written from the format description, by hand.
 */

const CORPUS_DIR = 'traces/_invalid_';
const EXPECTED_SUFFIX = '.expected.txt';

interface CorpusCase {
  name: string;
  /** The trace as the user would name it (relative to the repository root, vitest's cwd). */
  path: string;
  expected: string[];
}

function corpusCases(): CorpusCase[] {
  const files = readdirSync(CORPUS_DIR).sort();
  return files
    .filter((file) => file.endsWith(EXPECTED_SUFFIX))
    .map((expectedFile) => {
      const name = expectedFile.slice(0, -EXPECTED_SUFFIX.length);
      const traces = files.filter((file) => file !== expectedFile && file.startsWith(`${name}.`) && !file.endsWith(EXPECTED_SUFFIX));
      if (traces.length !== 1) throw new Error(`${CORPUS_DIR}/${expectedFile} needs exactly one trace named ${name}.<ext>, found ${traces.length}`);
      const expected = readFileSync(join(CORPUS_DIR, expectedFile), 'utf8').split('\n').filter((line) => line !== '');
      return { name, path: `${CORPUS_DIR}/${traces[0]}`, expected };
    });
}

/** Reads a trace to the end in strict mode; returns the error it fails with. */
async function failureOf(path: string): Promise<unknown> {
  const diagnostics = new Diagnostics({ maxErrors: 20, lenient: false });
  try {
    const trace = await openTrace(path, { diagnostics });
    await readAllChunks(trace);
    diagnostics.finish();
  } catch (error) {
    return error;
  }
  return null;
}

const cases = corpusCases();

describe('trace/invalid corpus', () => {
  it('has a case for every error kind the decoders report', () => {
    const files = readdirSync(CORPUS_DIR);
    for (const ext of ['.jsonl', '.json', '.csv', '.gz']) expect(files.some((f) => f.endsWith(ext)), ext).toBe(true);
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  describe.each(cases)('$name', ({ path, expected }) => {
    it('fails with the expected messages, in order', async () => {
      const error = await failureOf(path);
      expect(error).toBeInstanceOf(TraceErrors);
      const errors = (error as TraceErrors).errors;
      expect(errors.map((e) => e.message)).toEqual(expected);
      expect((error as TraceErrors).message).toBe(expected.join('\n'));
    });

    it('locates every error in the file', async () => {
      const error = (await failureOf(path)) as TraceErrors;
      for (const traceError of error.errors) {
        expect(traceError).toBeInstanceOf(TraceError);
        expect(traceError.location.file).toBe(path);
        expect(traceError.code).toMatch(/^TRACE_[A-Z_]+$/);
      }
    });
  });

  it('covers each error kind', async () => {
    const kinds = new Set<string>();
    for (const { path } of cases) {
      const error = (await failureOf(path)) as TraceErrors;
      for (const e of error.errors) kinds.add(e.kind);
    }
    expect([...kinds].sort()).toEqual(['encoding', 'header', 'not-csv', 'not-json', 'schema', 'time-order']);
  });
});
