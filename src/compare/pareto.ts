/**
 * Which configurations are worth choosing: the Pareto front over a set of objectives, each a
 * number read from a replay report that a user wants small.
 *
 * Definition. With objectives f₁ … f_k (all minimized), configuration a *dominates* b when
 * fᵢ(a) ≤ fᵢ(b) for every i and fⱼ(a) < fⱼ(b) for at least one j. The front is every
 * configuration no other one dominates. Configurations with identical objective values do not
 * dominate each other, so they are on the front together or off it together.
 *
 * The default objectives are the two sides of the trade-off a threshold sets: the collector's
 * work (`examined`: objects examined by all collections, what the pauses cost in total) against
 * the memory held (`peak-bytes`: peak live bytes, which counts garbage still waiting for a
 * collection). A lower threshold collects sooner and holds less, at more work.
 */
import type { ReplayReport } from '../report/json.js';
import { UsageError } from '../errors.js';

export interface ObjectiveDefinition {
  /** Column and axis title. */
  title: string;
  /** What it measures, for legends and `--help`. */
  description: string;
  unit: 'objects' | 'collections' | 'bytes' | 'events';
  of(run: ReplayReport): number;
}

export const OBJECTIVES = {
  examined: {
    title: 'objects examined',
    description: 'objects examined by all collections: the collector\'s total work',
    unit: 'objects',
    of: (run) => run.gc.totals.examined,
  },
  collections: {
    title: 'collections',
    description: 'collections of any generation',
    unit: 'collections',
    of: (run) => run.gc.totals.collections,
  },
  'largest-collection': {
    title: 'largest collection',
    description: 'the most objects one collection examined: the longest pause, as a proxy',
    unit: 'objects',
    of: (run) => run.gc.totals.largestExamined,
  },
  'peak-bytes': {
    title: 'peak live bytes',
    description: 'the most bytes alive at once, garbage not yet collected included',
    unit: 'bytes',
    of: (run) => run.memory.peak.bytes,
  },
  'garbage-latency': {
    title: 'garbage latency p95',
    description: '95th percentile of the events from an object becoming garbage to being freed',
    unit: 'events',
    of: (run) => run.garbageLatency.p95,
  },
  'garbage-left': {
    title: 'leaks left',
    description: 'bytes of cyclic garbage not yet collected plus uncollectable objects at the end of the trace',
    unit: 'bytes',
    of: (run) => leftBytes(run),
  },
} satisfies Record<string, ObjectiveDefinition>;

export type ObjectiveName = keyof typeof OBJECTIVES;

export const OBJECTIVE_NAMES = Object.keys(OBJECTIVES) as ObjectiveName[];

export const DEFAULT_OBJECTIVES: readonly ObjectiveName[] = ['examined', 'peak-bytes'];

export function isObjectiveName(name: string): name is ObjectiveName {
  return Object.prototype.hasOwnProperty.call(OBJECTIVES, name);
}

/** "objects examined and peak live bytes", "a, b and c": objective titles for a sentence. */
export function objectiveList(objectives: readonly ObjectiveName[]): string {
  const titles = objectives.map((name) => OBJECTIVES[name].title);
  return titles.length < 2 ? titles.join('') : `${titles.slice(0, -1).join(', ')} and ${titles[titles.length - 1]}`;
}

/** Bytes the collector left behind: cyclic garbage not collected yet plus uncollectable objects. */
export function leftBytes(run: ReplayReport): number {
  return run.leaks.cyclicGarbage.bytes + run.leaks.uncollectable.bytes;
}

/** `--objectives examined,peak-bytes`: at least two distinct known names. */
export function parseObjectives(names: readonly string[]): ObjectiveName[] {
  const parsed: ObjectiveName[] = [];
  for (const name of names) {
    if (!isObjectiveName(name)) throw new UsageError(`unknown objective "${name}"; choose from ${OBJECTIVE_NAMES.join(', ')}`);
    if (parsed.includes(name)) throw new UsageError(`objective "${name}" is named twice`);
    parsed.push(name);
  }
  if (parsed.length < 2) throw new UsageError(`a Pareto front needs at least two objectives, got ${parsed.length === 0 ? 'none' : `only ${parsed[0]}`}`);
  return parsed;
}

/** The objective values of each run, in run order. */
export function objectiveValues(runs: readonly ReplayReport[], objectives: readonly ObjectiveName[]): number[][] {
  return runs.map((run) => objectives.map((name) => OBJECTIVES[name].of(run)));
}

/** Whether point `a` dominates point `b` (see the header). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strictly = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) strictly = true;
  }
  return strictly;
}

/**
 * Indices of the non-dominated points, ascending.
 *
 * NOTE: the points are visited in lexicographic order. A dominator is lexicographically smaller
 * than what it dominates, and domination is transitive, so a point is dominated if and only if a
 * point already on the front dominates it: the scan compares each point with the front only,
 * O(n · front · k) instead of O(n² · k).
 */
export function paretoFront(points: readonly (readonly number[])[]): number[] {
  const order = points.map((_, index) => index);
  order.sort((a, b) => {
    const pa = points[a];
    const pb = points[b];
    for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
    return a - b;
  });
  const front: number[] = [];
  for (const index of order) {
    if (!front.some((member) => dominates(points[member], points[index]))) front.push(index);
  }
  return front.sort((a, b) => a - b);
}
