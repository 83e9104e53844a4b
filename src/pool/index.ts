/**
 * The allocator-policy registry: `--pool NAME` picks a module, `--pool-param key=value` overrides
 * its parameters. Adding a policy = one file in this folder + one line in `poolPolicies`.
 */
import { UsageError } from '../errors.js';
import type { PoolModule, PoolPolicy } from './pool.js';
import { pymalloc27, pymalloc311, pymalloc39 } from './pymalloc.js';
import { malloc } from './system.js';

export const poolPolicies = {
  malloc,
  'pymalloc-3.11': pymalloc311,
  'pymalloc-3.9': pymalloc39,
  'pymalloc-2.7': pymalloc27,
} satisfies Record<string, PoolModule>;

export type PoolName = keyof typeof poolPolicies;

export function isPoolName(name: string): name is PoolName {
  return Object.prototype.hasOwnProperty.call(poolPolicies, name);
}

export function poolNames(): PoolName[] {
  return Object.keys(poolPolicies) as PoolName[];
}

/** The module a name refers to; throws `UsageError` listing the known names. */
export function poolModule(name: string): PoolModule {
  if (!isPoolName(name)) throw new UsageError(`unknown pool policy "${name}"; known policies: ${poolNames().join(', ')}`);
  return poolPolicies[name];
}

/**
 * Creates a policy with its default parameters overridden by `overrides` (from `--pool-param`).
 * Unknown names and non-integer values are `UsageError`s that list the policy's parameters;
 * impossible combinations are rejected by the policy itself, also with a `UsageError`.
 */
export function createPool(name: string, overrides: Record<string, number> = {}): PoolPolicy {
  const module = poolModule(name);
  const params: Record<string, number> = { ...module.defaultParams };
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.prototype.hasOwnProperty.call(module.defaultParams, key)) {
      const known = Object.entries(module.paramDocs).map(([param, doc]) => `  ${param} (default ${module.defaultParams[param]}): ${doc}`);
      throw new UsageError(`unknown parameter "${key}" for pool policy ${name}; its parameters are:\n${known.join('\n')}`);
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new UsageError(`pool parameter ${key} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    params[key] = value;
  }
  return module.create(params);
}

/** [major, minor, patch] of "X.Y" or "X.Y.Z" (patch 0 when absent), or null. */
function parseVersion(version: string): [number, number, number] | null {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : null;
}

/**
 * The policy modelling a CPython version's allocator: 3.10+ → `pymalloc-3.11`, 3.6–3.9 →
 * `pymalloc-3.9`, 2.x → `pymalloc-2.7`. Throws `UsageError` for versions without a model.
 */
export function defaultPoolFor(pythonVersion: string): PoolName {
  const version = parseVersion(pythonVersion);
  if (version !== null) {
    const [major, minor] = version;
    if (major === 2) return 'pymalloc-2.7';
    if (major === 3 && minor >= 10) return 'pymalloc-3.11';
    if (major === 3 && minor >= 6) return 'pymalloc-3.9';
  }
  throw new UsageError(`no allocator model for Python ${JSON.stringify(pythonVersion)}; choose one with --pool (${poolNames().join(', ')})`);
}

/**
 * Parameter overrides that complete `defaultPoolFor` for versions its policy covers only
 * approximately: 3.6–3.8 release every wholly free arena (the keep-one rule, bpo-37257, is 3.9+).
 */
export function defaultPoolParamsFor(pythonVersion: string): Record<string, number> {
  const version = parseVersion(pythonVersion);
  if (version !== null && version[0] === 3 && version[1] >= 6 && version[1] <= 8) return { keep_free_arena: 0 };
  // 2.7.17 backported bpo-27987 (GH-13319): 16-byte alignment, 512-byte threshold.
  if (version !== null && version[0] === 2 && version[2] >= 17) return { alignment: 16, small_threshold: 512 };
  return {};
}

/**
 * Parses `--pool-param` values (`key=value`, repeatable; a value may also hold several pairs
 * separated by commas). Names are checked later, by `createPool`, against the chosen policy.
 */
export function parsePoolParams(values: readonly string[]): Record<string, number> {
  // No prototype: a parameter named "__proto__" must be an unknown parameter, not a prototype.
  const params: Record<string, number> = Object.create(null);
  for (const pair of values.flatMap((value) => value.split(','))) {
    const match = /^\s*([a-z_][a-z0-9_]*)\s*=\s*(\d+)\s*$/i.exec(pair);
    if (!match) throw new UsageError(`--pool-param expects key=value with a non-negative integer value (e.g. pool_size=4096), got ${JSON.stringify(pair)}`);
    params[match[1]] = Number(match[2]);
  }
  return params;
}

/** One line per policy for `memreplay pools`: what it models and its parameters. */
export interface PoolListing {
  name: PoolName;
  description: string;
  releases: string;
  params: { name: string; default: number; doc: string }[];
}

export function listPools(): PoolListing[] {
  return poolNames().map((name) => {
    const module: PoolModule = poolPolicies[name];
    return {
      name,
      description: module.description,
      releases: module.releases,
      params: Object.keys(module.defaultParams).map((param) => ({ name: param, default: module.defaultParams[param], doc: module.paramDocs[param] })),
    };
  });
}
