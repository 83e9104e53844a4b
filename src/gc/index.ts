/**
 * The collector-policy registry and policy names.
 *
 * A policy name is a family plus, for CPython, a version: `cpython-3.12` means the model of the
 * latest 3.12 patch release, `cpython-3.12.1` the model covering 3.12.1 (rules changed inside
 * some patch series, so a series may be split into several models). Adding a policy = one file in
 * this folder + one entry in `UNVERSIONED` or, for a CPython collector design, `CPYTHON`.
 */
import { UsageError } from '../errors.js';
import type { CollectorModule, PolicyRelease } from './collector.js';
import { generational } from './generational.js';
import { incremental } from './incremental.js';
import { markSweep } from './mark-sweep.js';
import { refcountOnly } from './refcount.js';

/** The policies without versions: their family name is their policy name. */
const UNVERSIONED = [refcountOnly, markSweep] as const;

/** The models of CPython releases: one family per collector design, all named `cpython-X.Y[.Z]`. */
const CPYTHON = [generational, incremental] as const;

/** Every CPython release model with its family, oldest release first. */
function cpythonReleases(): { module: CollectorModule; release: PolicyRelease }[] {
  const all = CPYTHON.flatMap((module) => module.releases.map((release) => ({ module: module as CollectorModule, release })));
  const key = (r: PolicyRelease): number[] => [...r.minor.split('.').map(Number), r.firstPatch];
  return all.sort((a, b) => {
    const [x, y] = [key(a.release), key(b.release)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}

/** The default policy when neither `--policy` nor the trace's `meta.python` names one. */
export const DEFAULT_POLICY = 'cpython-3.12';

export interface ResolvedPolicy {
  /** The name as the user wrote it (or as it was derived from `meta.python`). */
  requested: string;
  /** The canonical name of the model, e.g. `cpython-3.12.1`. */
  name: string;
  module: CollectorModule;
  release: PolicyRelease;
}

const VERSIONED = /^cpython-(\d+)\.(\d+)(?:\.(\d+))?$/;

/** Resolves a policy name; throws `UsageError` listing the known policies when it names none. */
export function resolvePolicy(requested: string): ResolvedPolicy {
  for (const module of UNVERSIONED) {
    if (requested === module.name) return { requested, name: requested, module, release: module.releases[0] };
  }
  const match = VERSIONED.exec(requested);
  if (match) {
    const minor = `${match[1]}.${match[2]}`;
    const models = cpythonReleases().filter(({ release }) => release.minor === minor);
    const patch = match[3] === undefined ? Infinity : Number(match[3]);
    const found = models.find(({ release }) => patch >= release.firstPatch && patch <= release.lastPatch);
    if (found) return { requested, name: `cpython-${found.release.id}`, module: found.module, release: found.release };
    if (models.length > 0) {
      throw new UsageError(`no model of CPython ${minor}.${match[3]}: memreplay's models of CPython ${minor} cover ${models.map(({ release }) => release.covers).join(' and ')}`);
    }
  }
  throw new UsageError(`unknown collector policy "${requested}"; known policies: ${policyNames().join(', ')} (a full version such as cpython-3.12.1 selects that release's model)`);
}

/** Policy names as `memreplay policies` lists them. */
export function policyNames(): string[] {
  const minors = [...new Set(cpythonReleases().map(({ release }) => release.minor))];
  return [...UNVERSIONED.map((module) => module.name), ...minors.map((m) => `cpython-${m}`)];
}

/**
 * The policy for a trace: `--policy` if given, else the version in `meta.python`, else
 * `DEFAULT_POLICY`. A recorded version memreplay does not model is an error, not a silent fallback.
 */
export function choosePolicy(option: string | undefined, metaPython: string | undefined): ResolvedPolicy {
  if (option !== undefined) return resolvePolicy(option);
  if (metaPython !== undefined) {
    const version = /^(\d+\.\d+(?:\.\d+)?)/.exec(metaPython)?.[1];
    try {
      if (version !== undefined) return resolvePolicy(`cpython-${version}`);
    } catch {
      // fall through to the clearer message below
    }
    throw new UsageError(`the trace was recorded with Python ${metaPython}, which memreplay does not model; choose a model with --policy (${policyNames().join(', ')})`);
  }
  return resolvePolicy(DEFAULT_POLICY);
}

export interface PolicyListing {
  name: string;
  model: string;
  covers: string;
  description: string;
  defaultThresholds: readonly number[];
  freeLists: string;
}

export function listPolicies(): PolicyListing[] {
  const rows: PolicyListing[] = UNVERSIONED.map((module) => {
    const release: PolicyRelease = module.releases[0];
    return { name: module.name, model: module.name, covers: release.covers, description: module.description, defaultThresholds: release.defaultThresholds, freeLists: release.freeLists };
  });
  for (const { module, release: r } of cpythonReleases()) {
    rows.push({
      name: r.lastPatch === Infinity ? `cpython-${r.minor}` : `cpython-${r.minor}.{${r.firstPatch}-${r.lastPatch}}`,
      model: `cpython-${r.id}`,
      covers: r.covers,
      description: module.description,
      defaultThresholds: r.defaultThresholds,
      freeLists: r.freeLists,
    });
  }
  return rows;
}
