import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/compare/config-file.js';
import { UsageError } from '../../src/errors.js';
import { ROOT } from '../helpers/cli.js';

const problem = (text: string): string => {
  try {
    parseConfigFile(text, 'sweep.json');
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('compare/config-file', () => {
  it('reads the README\'s example: the list first, then the grid', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Comparing configurations'));
    const example = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toBeDefined();
    const { entries, objectives } = parseConfigFile(example ?? '', 'README.md');
    expect(entries).toHaveLength(2 + 2 * 4 * 3);
    expect(entries.slice(0, 3).map((e) => e.label)).toEqual(['as deployed', 'no automatic gc', 'cpython-3.12 100/5']);
    expect(entries[1]).toMatchObject({ policy: 'cpython-3.11', gc: 'off', thresholds: null });
    expect(objectives).toEqual(['examined', 'peak-bytes']);
  });

  it('takes grid values as arrays or in the range syntax', () => {
    const { entries } = parseConfigFile('{"grid":{"threshold0":[700,100],"threshold2":"1..100x10","oldObjects":"0..50000+25000"}}', 'f');
    expect(entries).toHaveLength(2 * 3 * 3);
    expect(entries[0]).toMatchObject({ thresholds: [700, null, 1], oldObjects: 0 });
    expect(entries[17]).toMatchObject({ thresholds: [100, null, 100], oldObjects: 50000 });
  });

  it('takes markedObjects in a configuration, and in a grid for all of its configurations', () => {
    const { entries } = parseConfigFile('{"configurations":[{"policy":"cpython-3.14.2","markedObjects":500},{}],"grid":{"threshold0":[50,100],"markedObjects":700}}', 'f');
    expect(entries.map((e) => e.markedObjects)).toEqual([500, null, 700, 700]);
  });

  it('takes each grid value once, as the command line does (`"700,700"` is one value)', () => {
    const { entries } = parseConfigFile('{"grid":{"policy":["cpython-3.11","cpython-3.12","cpython-3.11"],"threshold0":[700,100,700],"gc":["on","on"]}}', 'f');
    expect(entries.map((e) => e.label)).toEqual(['cpython-3.11 700', 'cpython-3.11 100', 'cpython-3.12 700', 'cpython-3.12 100']);
  });

  it.each([
    ['{}', "must have required property 'configurations'"],
    ['{"configurations":[]}', 'sweep.json: lists no configurations; give at least one in "configurations", or a "grid"'],
    ['{"configurations":[{"markedObjects":-1}]}', '/configurations/0/markedObjects: must be >= 0'],
    ['{"grid":{"threshold0":[3000000000]}}', 'sweep.json: grid.threshold0: 3000000000 is above the largest allowed value, 2147483647'],
    ['{"grid":{"threshold1":"5..1"}}', 'grid.threshold1: the range "5..1" ends below its start'],
    ['{"configurations":[{"policy":"cpython-3.15"}]}', 'sweep.json: configurations/0: unknown collector policy "cpython-3.15"'],
    ['{"configurations":[{"thresholds":[1,2,3,4]}]}', '/configurations/0/thresholds: must NOT have more than 3 items'],
    ['{"configurations":[{"gc":"sometimes"}]}', '/configurations/0/gc: must be equal to one of the allowed values: on, off'],
    ['{"configurations":[],"objectives":["examined"]}', '/objectives: must NOT have fewer than 2 items'],
    ['{"configurations": [', 'sweep.json: not JSON'],
  ])('refuses %s', (text, message) => {
    expect(problem(text)).toContain(message);
  });

  it('refuses more configurations than the cap, counting list and grid together', () => {
    const list = Array.from({ length: 5 }, () => ({}));
    expect(problem(JSON.stringify({ configurations: list, grid: { threshold0: '1..100+1', threshold1: '1..100+1' } }))).toContain('10,005 configurations (in sweep.json)');
  });
});
