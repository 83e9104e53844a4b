import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { createPool, defaultPoolFor, defaultPoolParamsFor, listPools, parsePoolParams, poolPolicies } from '../../src/pool/index.js';

describe('pool/index', () => {
  it('creates every registered policy with its defaults, and documents every parameter', () => {
    for (const name of Object.keys(poolPolicies)) expect(createPool(name).name).toBe(name);
    for (const listing of listPools()) {
      expect(listing.params.length).toBeGreaterThan(0);
      for (const param of listing.params) expect(param.doc, `${listing.name} ${param.name}`).toMatch(/\w/);
    }
  });

  it('registers every policy file of src/pool', async () => {
    const { readdirSync } = await import('node:fs');
    const files = readdirSync(new URL('../../src/pool/', import.meta.url)).filter((f) => f.endsWith('.ts'));
    const notPolicies = ['pool.ts', 'free-list.ts', 'index.ts', 'size-classes.ts', 'debugmallocstats.ts'];
    const modules = new Set(Object.values(poolPolicies));
    for (const file of files.filter((f) => !notPolicies.includes(f))) {
      const exported = Object.values((await import(`../../src/pool/${file}`)) as Record<string, unknown>);
      const policies = exported.filter((value) => typeof value === 'object' && value !== null && 'create' in value && 'defaultParams' in value);
      expect(policies.length, file).toBeGreaterThan(0);
      for (const policy of policies) expect(modules.has(policy as never), `${file} exports an unregistered policy`).toBe(true);
    }
  });

  it('parses --pool-param pairs', () => {
    expect(parsePoolParams(['pool_size=4096', 'small_threshold=256,keep_free_arena=0'])).toEqual({ pool_size: 4096, small_threshold: 256, keep_free_arena: 0 });
    expect(() => parsePoolParams(['pool_size'])).toThrow(UsageError);
    expect(() => parsePoolParams(['pool_size=4k'])).toThrow(/key=value/);
  });

  it('applies --pool-param overrides', () => {
    const policy = createPool('pymalloc-3.11', { pool_size: 4096, small_threshold: 256 });
    expect(policy.sizeClassOf(257)).toBe(-1);
    const snapshot = policy.snapshot();
    expect([snapshot.params.pool_size, snapshot.sizeClasses.length]).toEqual([4096, 16]);
  });

  it('rejects unknown policies and parameters with the list of known ones', () => {
    expect(() => createPool('pymalloc-4.0')).toThrow(/known policies: malloc, pymalloc-3.11, pymalloc-3.9, pymalloc-2.7/);
    expect(() => createPool('pymalloc-3.11', { poolsize: 1 })).toThrow(UsageError);
    expect(() => createPool('pymalloc-3.11', { poolsize: 1 })).toThrow(/pool_size \(default 16384\)/);
  });

  it('rejects impossible layouts', () => {
    expect(() => createPool('pymalloc-3.11', { pool_size: 1000 })).toThrow(/pool_size must be a power of two/);
    expect(() => createPool('pymalloc-3.11', { pool_size: 1024 })).toThrow(UsageError); // two 512-byte blocks do not fit
    expect(() => createPool('pymalloc-3.11', { small_threshold: 500 })).toThrow(/multiple of alignment/);
    expect(() => createPool('pymalloc-3.11', { arena_size: 32768 })).toThrow(/at least 3 pools/);
    expect(() => createPool('pymalloc-3.11', { keep_free_arena: 2 })).toThrow(/0 or 1/);
    expect(() => createPool('malloc', { page_size: 3000 })).toThrow(/power of two/);
  });

  it('chooses the model of a Python version', () => {
    expect(['3.14.2', '3.12.1', '3.10', '3.9.18', '3.6.15', '2.7.18'].map(defaultPoolFor)).toEqual(['pymalloc-3.11', 'pymalloc-3.11', 'pymalloc-3.11', 'pymalloc-3.9', 'pymalloc-3.9', 'pymalloc-2.7']);
    expect(defaultPoolParamsFor('3.8.18')).toEqual({ keep_free_arena: 0 });
    expect(defaultPoolParamsFor('3.9.18')).toEqual({});
    expect(() => defaultPoolFor('3.5.10')).toThrow(UsageError);
    expect(() => defaultPoolFor('pypy')).toThrow(UsageError);
  });
});
