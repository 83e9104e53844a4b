#!/usr/bin/env node
/**
 * memreplay's benchmark (npm run bench, after npm run build): figures, never pass/fail. Prints a
 * table and writes it as JSON to bench/results/<date>.json.
 *
 *   node bench/run.js                  full run (about 4 minutes on 2 cores)
 *   node bench/run.js --quick          smaller inputs (about 35 seconds)
 *   node bench/run.js --baseline DIR   also measure another built checkout (before/after)
 *   node bench/run.js --keep           keep the generated traces (their directory is printed)
 *
 * What is measured, each next to what it should be compared with (issue 7):
 *   1. end to end: `memreplay replay FILE` as a whole process (startup, decoding with full
 *      validation, replay with the default collector and allocator, report), JSON Lines and CSV,
 *      against `cat FILE > /dev/null` and `JSON.parse` of each line alone; JSON Lines also
 *      pinned to one core (`taskset -c 0`, when the machine has it);
 *   2. the same heap operations run by CPython (the oracle's timed loop, src/oracle/cpython.ts);
 *   3. replay alone: `replayChunks` over chunks decoded beforehand, in a process of its own
 *      (bench/replay-alone.js);
 *   4. peak RSS of the whole process from the small to the large trace;
 *   5. startup: `memreplay --version` and `memreplay validate` of a small trace, against Node.js
 *      starting alone (`node -e 0`);
 *   6. `memreplay compare` of 8 configurations (2 collectors × 4 generation-0 thresholds) against
 *      the 8 `memreplay replay` runs it stands for, one after the other.
 * Inputs are made by `memreplay generate` (workload `web`, and `orm` for a trace with string ids
 * whose collections free many objects) in a temporary directory.
 * Wall times are medians of several runs (`--runs`); the machine's other load shows in them.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const CHILD = join(HERE, 'child.js');
const REPLAY_ALONE = join(HERE, 'replay-alone.js');

/** Input sizes, in events. */
const SIZES = {
  full: { small: 1_000_000, large: 10_000_000, csv: 10_000_000, replayAlone: 2_000_000, jsonParseLines: 2_000_000, compare: 2_000_000, orm: 1_000_000 },
  quick: { small: 100_000, large: 1_000_000, csv: 1_000_000, replayAlone: 500_000, jsonParseLines: 500_000, compare: 500_000, orm: 200_000 },
};

/** Issue 7's targets; checked and printed, never enforced. */
const TARGETS = {
  jsonlEventsPerSecond: 5e6,
  csvEventsPerSecond: 3e6,
  replayAloneEventsPerSecond: 15e6,
  cpythonSpeedup: 3,
  rssGrowth: 1.25,
  rssLargeBytes: 256 * 2 ** 20,
  startupMs: 150,
  compareRatio: 0.6,
};

/**
 * The comparison the bench sweeps: 2 collectors × 4 generation-0 thresholds = 8 configurations,
 * as `compare` options and as the 8 equivalent `replay` option lists (thresholds 1 and 2 left at
 * the policy's default in both).
 */
const COMPARE_POLICIES = ['cpython-3.11', 'cpython-3.12'];
const COMPARE_THRESHOLDS0 = [100, 1000, 10000, 100000];
const COMPARE_ARGS = ['--policy', COMPARE_POLICIES.join(','), '--threshold0', COMPARE_THRESHOLDS0.join(',')];
const COMPARE_REPLAYS = COMPARE_POLICIES.flatMap((policy) => COMPARE_THRESHOLDS0.map((t0) => ['--policy', policy, '--threshold', `${t0},,`]));

// -------------------------------------------------------------------------------------------------
// Command line

function parseArguments(argv) {
  const options = { quick: false, keep: false, baseline: null, runs: 3, startupRuns: 11 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--baseline') options.baseline = resolve(argv[++i] ?? '');
    else if (arg === '--runs') options.runs = Number(argv[++i]);
    else throw new Error(`unknown option ${arg} (see the header of bench/run.js)`);
  }
  if (options.baseline !== null && !existsSync(join(options.baseline, 'dist', 'cli', 'main.js'))) throw new Error(`--baseline ${options.baseline}: no built dist/ there`);
  if (!(options.runs >= 1)) throw new Error('--runs must be at least 1');
  return options;
}

// -------------------------------------------------------------------------------------------------
// Measuring

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs a command to completion; returns its wall time in ms. Output is discarded. */
function timeCommand(command, args) {
  const start = performance.now();
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return ms;
}

/** `taskset`, to pin a process to one core, when this machine has it (util-linux). */
const TASKSET = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Runs the CLI of checkout `root` as a whole process (bench/child.js): wall ms and peak RSS.
 * `oneCore`: pinned to the first core with `taskset -c 0` (the process then sees one core).
 */
function runCli(root, args, oneCore = false) {
  const start = performance.now();
  const command = oneCore ? ['taskset', ['-c', '0', process.execPath, CHILD, root, ...args]] : [process.execPath, [CHILD, root, ...args]];
  const result = spawnSync(command[0], command[1], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - start;
  const report = JSON.parse(String(result.output[3]).trim().split('\n').pop() ?? '{}');
  if (result.status !== 0) throw new Error(`memreplay ${args.join(' ')} (${root}) exited with ${result.status}: ${String(result.stderr).slice(0, 2000)}`);
  return { ms, maxRssBytes: report.maxRssBytes };
}

/** The median of `runs` whole-process replays of `file`. */
function measureReplay(root, file, events, runs, oneCore = false) {
  const samples = Array.from({ length: runs }, () => runCli(root, ['replay', file], oneCore));
  const ms = median(samples.map((s) => s.ms));
  return { events, ms: round(ms), eventsPerSecond: Math.round(events / (ms / 1000)), maxRssBytes: Math.max(...samples.map((s) => s.maxRssBytes)), runsMs: samples.map((s) => round(s.ms)) };
}

/** Startup of the real launcher (bin/memreplay.js): median and best of `runs`. */
function measureStartup(root, args, runs) {
  const samples = Array.from({ length: runs }, () => timeCommand(process.execPath, [join(root, 'bin', 'memreplay.js'), ...args]));
  return { medianMs: round(median(samples)), bestMs: round(Math.min(...samples)) };
}

/**
 * `compare` of the 8 configurations against the 8 `replay` runs it replaces, run one after the
 * other (what a user would otherwise script): medians of `runs` each.
 */
function measureCompare(root, file, events, runs) {
  const compareMs = median(Array.from({ length: runs }, () => runCli(root, ['compare', file, ...COMPARE_ARGS]).ms));
  const replaysMs = median(Array.from({ length: runs }, () => COMPARE_REPLAYS.reduce((sum, args) => sum + runCli(root, ['replay', file, ...args]).ms, 0)));
  return { events, configurations: COMPARE_REPLAYS.length, compareMs: round(compareMs), replaysMs: round(replaysMs), ratio: round(compareMs / replaysMs, 2) };
}

function round(value, digits = 1) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** `JSON.parse` of each of the first `limit` lines (after the header), read as a stream. */
async function measureJsonParse(file, limit) {
  const start = performance.now();
  let lines = 0;
  let carry = '';
  let checksum = 0;
  outer: for await (const piece of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const text = carry + piece.toString('utf8');
    const parts = text.split('\n');
    carry = parts.pop() ?? '';
    for (const line of parts) {
      if (lines++ === 0) continue; // the header
      checksum += JSON.parse(line).op.length;
      if (lines > limit) break outer;
    }
  }
  const ms = performance.now() - start;
  const events = Math.min(lines - 1, limit);
  return { events, ms: round(ms), eventsPerSecond: Math.round(events / (ms / 1000)), checksum };
}

/**
 * `replayChunks` over chunks decoded beforehand (bench/replay-alone.js): the first (cold) run, and
 * the median and best of the warm ones. In a process of its own, so that nothing this one holds
 * (the CPython baseline's million parsed events) costs it garbage-collection time.
 */
function measureReplayAlone(root, file) {
  const result = spawnSync(process.execPath, [REPLAY_ALONE, root, file], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  if (result.status !== 0) throw new Error(`bench/replay-alone.js (${root}) exited with ${result.status}: ${result.stderr.slice(0, 2000)}`);
  const { events, coldMs, warmMs } = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}');
  const rate = (ms) => Math.round(events / (ms / 1000));
  return {
    events,
    coldMs: round(coldMs),
    coldEventsPerSecond: rate(coldMs),
    warmMedianMs: round(median(warmMs)),
    warmMedianEventsPerSecond: rate(median(warmMs)),
    warmBestEventsPerSecond: rate(Math.min(...warmMs)),
  };
}

/**
 * The same heap operations in CPython: the oracle's driver loop, timed by the interpreter itself
 * (`loopSeconds`). Tracked list/dict/tuple/float objects are renamed to plain classes: the oracle
 * cannot reproduce CPython's own treatment of those types (cpython.ts), and for timing only the
 * operations matter.
 */
async function measureCPython(file) {
  const { runInCPython } = await import(pathToFileURL(join(ROOT, 'dist', 'oracle', 'cpython.js')).href);
  const { findPython } = await import(pathToFileURL(join(ROOT, 'dist', 'oracle', 'python.js')).href);
  const lines = readFileSync(file, 'utf8').split('\n');
  const header = JSON.parse(lines[0]);
  const version = typeof header.meta?.python === 'string' ? header.meta.python : '3.12';
  const python = findPython(version) ?? findPython(version.split('.').slice(0, 2).join('.'));
  if (python === null) return { skipped: `no CPython ${version} under $PYENV_ROOT/versions (~/.pyenv)` };
  const ownTreatment = new Set(['list', 'dict', 'tuple', 'float']);
  const events = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const event = JSON.parse(line);
    if (event.op === 'alloc' && event.tracked !== false && ownTreatment.has(event.type)) event.type = `${event.type}_`;
    events.push(event);
  }
  const result = await runInCPython(events, { python, timeoutMs: 600_000 });
  return { python: result.python, events: events.length, loopSeconds: round(result.loopSeconds, 4), eventsPerSecond: Math.round(events.length / result.loopSeconds) };
}

// -------------------------------------------------------------------------------------------------
// Inputs

function generate(workdir, events, format, workload = 'web') {
  const file = join(workdir, `${workload}-${events}.${format}`);
  if (!existsSync(file)) timeCommand(process.execPath, [join(ROOT, 'bin', 'memreplay.js'), 'generate', '--workload', workload, '--events', String(events), '--format', format, '-o', file]);
  return file;
}

// -------------------------------------------------------------------------------------------------
// One checkout's figures

async function measureCheckout(root, inputs, sizes, options, log) {
  const results = {};
  log(`  replay ${inputs.large} ...`);
  results.jsonl = measureReplay(root, inputs.large, sizes.large, options.runs);
  if (TASKSET) {
    log(`  replay ${inputs.large} on one core ...`);
    results.jsonlOneCore = measureReplay(root, inputs.large, sizes.large, options.runs, true);
  }
  log(`  replay ${inputs.csv} ...`);
  results.csv = measureReplay(root, inputs.csv, sizes.csv, options.runs);
  log(`  replay ${inputs.small} ...`);
  results.jsonlSmall = measureReplay(root, inputs.small, sizes.small, options.runs);
  log(`  replay ${inputs.orm} ...`);
  results.orm = measureReplay(root, inputs.orm, sizes.orm, options.runs);
  log(`  replay alone (${sizes.replayAlone} events decoded beforehand) ...`);
  results.replayAlone = measureReplayAlone(root, inputs.replayAlone);
  log(`  compare, ${COMPARE_REPLAYS.length} configurations, and as many replays of ${inputs.compare} ...`);
  results.compare = measureCompare(root, inputs.compare, sizes.compare, options.runs);
  log('  startup ...');
  results.startup = {
    version: measureStartup(root, ['--version'], options.startupRuns),
    validate: measureStartup(root, ['validate', join(root, 'traces', 'cycle.jsonl')], options.startupRuns),
  };
  results.rss = {
    smallBytes: results.jsonlSmall.maxRssBytes,
    largeBytes: results.jsonl.maxRssBytes,
    growth: round(results.jsonl.maxRssBytes / results.jsonlSmall.maxRssBytes, 2),
  };
  return results;
}

function targetsOf(results, python) {
  const speedup = python.loopSeconds === undefined ? null : round(python.loopSeconds / (results.jsonlSmall.ms / 1000), 2);
  return {
    cpythonSpeedup: speedup,
    /** What the whole process may take on the small trace to be 3× the interpreter's loop. */
    cpythonBudgetMs: python.loopSeconds === undefined ? null : round((python.loopSeconds * 1000) / TARGETS.cpythonSpeedup),
    met: {
      jsonl: results.jsonl.eventsPerSecond >= TARGETS.jsonlEventsPerSecond,
      csv: results.csv.eventsPerSecond >= TARGETS.csvEventsPerSecond,
      replayAlone: results.replayAlone.warmMedianEventsPerSecond >= TARGETS.replayAloneEventsPerSecond,
      cpython: speedup === null ? null : speedup >= TARGETS.cpythonSpeedup,
      rssGrowth: results.rss.growth <= TARGETS.rssGrowth,
      rssLarge: results.rss.largeBytes <= TARGETS.rssLargeBytes,
      startupVersion: results.startup.version.medianMs < TARGETS.startupMs,
      startupValidate: results.startup.validate.medianMs < TARGETS.startupMs,
      compare: results.compare.ratio <= TARGETS.compareRatio,
    },
  };
}

// -------------------------------------------------------------------------------------------------
// The table

const millions = (n) => `${(n / 1e6).toFixed(2)} M/s`;
const mib = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;
const mark = (met) => (met === null ? '' : met ? 'met' : 'MISSED');

function rowsOf(label, r, t) {
  return [
    [`replay web ${r.jsonl.events / 1e6}M .jsonl (whole process)`, millions(r.jsonl.eventsPerSecond), `${r.jsonl.ms} ms`, `>= ${millions(TARGETS.jsonlEventsPerSecond)} ${mark(t.met.jsonl)}`],
    ...(r.jsonlOneCore === undefined ? [] : [[`replay web ${r.jsonlOneCore.events / 1e6}M .jsonl, pinned to one core`, millions(r.jsonlOneCore.eventsPerSecond), `${r.jsonlOneCore.ms} ms`, '']]),
    [`replay web ${r.csv.events / 1e6}M .csv (whole process)`, millions(r.csv.eventsPerSecond), `${r.csv.ms} ms`, `>= ${millions(TARGETS.csvEventsPerSecond)} ${mark(t.met.csv)}`],
    [`replay web ${r.jsonlSmall.events / 1e6}M .jsonl (whole process)`, millions(r.jsonlSmall.eventsPerSecond), `${r.jsonlSmall.ms} ms`, ''],
    ...(r.orm === undefined ? [] : [[`replay orm ${r.orm.events / 1e6}M .jsonl (string ids, collector-heavy)`, millions(r.orm.eventsPerSecond), `${r.orm.ms} ms`, '']]),
    [`replay alone, ${r.replayAlone.events / 1e6}M events: warm median`, millions(r.replayAlone.warmMedianEventsPerSecond), `${r.replayAlone.warmMedianMs} ms`, `>= ${millions(TARGETS.replayAloneEventsPerSecond)} ${mark(t.met.replayAlone)}`],
    ['replay alone: warm best / first (cold) run', `${millions(r.replayAlone.warmBestEventsPerSecond)} / ${millions(r.replayAlone.coldEventsPerSecond)}`, `${r.replayAlone.coldMs} ms cold`, ''],
    [`peak RSS ${r.jsonlSmall.events / 1e6}M → ${r.jsonl.events / 1e6}M events`, `${mib(r.rss.smallBytes)} → ${mib(r.rss.largeBytes)}`, `×${r.rss.growth}`, `<= ×${TARGETS.rssGrowth} ${mark(t.met.rssGrowth)}, <= ${mib(TARGETS.rssLargeBytes)} ${mark(t.met.rssLarge)}`],
    ['startup: memreplay --version (median / best)', `${r.startup.version.medianMs} / ${r.startup.version.bestMs} ms`, '', `< ${TARGETS.startupMs} ms ${mark(t.met.startupVersion)}`],
    ['startup: memreplay validate small trace', `${r.startup.validate.medianMs} / ${r.startup.validate.bestMs} ms`, '', `< ${TARGETS.startupMs} ms ${mark(t.met.startupValidate)}`],
    [`compare ${r.compare.configurations} configurations ÷ ${r.compare.configurations} replays (web ${r.compare.events / 1e6}M)`, `×${r.compare.ratio}`, `${r.compare.compareMs} / ${r.compare.replaysMs} ms`, `<= ×${TARGETS.compareRatio} ${mark(t.met.compare)}`],
    [`CPython loop ÷ memreplay process (web ${r.jsonlSmall.events / 1e6}M)`, t.cpythonSpeedup === null ? 'n/a' : `×${t.cpythonSpeedup}`, '', `>= ×${TARGETS.cpythonSpeedup}${t.cpythonBudgetMs === null ? '' : ` (<= ${t.cpythonBudgetMs} ms)`} ${mark(t.met.cpython)}`],
  ].map((row) => [label, ...row]);
}

function printTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
  for (const [i, row] of rows.entries()) {
    process.stdout.write(`${row.map((cell, c) => String(cell).padEnd(widths[c])).join('  ')}\n`);
    if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
}

// -------------------------------------------------------------------------------------------------

async function main() {
  const options = parseArguments(process.argv.slice(2));
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('no dist/: run "npm run build" first');
  const sizes = options.quick ? SIZES.quick : SIZES.full;
  const log = (text) => process.stderr.write(`${text}\n`);
  const workdir = mkdtempSync(join(tmpdir(), 'memreplay-bench-'));
  try {
    log(`generating web traces in ${workdir} ...`);
    const inputs = {
      small: generate(workdir, sizes.small, 'jsonl'),
      large: generate(workdir, sizes.large, 'jsonl'),
      csv: generate(workdir, sizes.csv, 'csv'),
      replayAlone: generate(workdir, sizes.replayAlone, 'jsonl'),
      compare: generate(workdir, sizes.compare, 'jsonl'),
      orm: generate(workdir, sizes.orm, 'jsonl', 'orm'),
    };
    log('baselines ...');
    const catMs = median(Array.from({ length: options.runs }, () => timeCommand('cat', [inputs.large])));
    // Node.js starting and doing nothing: the floor under every whole-process figure (and under
    // the "3× the interpreter" target, whose budget for the small trace is the loop's time ÷ 3).
    const nodeStart = Array.from({ length: options.startupRuns }, () => timeCommand(process.execPath, ['-e', '0']));
    const baselines = {
      cat: { events: sizes.large, bytes: statSync(inputs.large).size, ms: round(catMs), eventsPerSecond: Math.round(sizes.large / (catMs / 1000)) },
      jsonParse: await measureJsonParse(inputs.large, sizes.jsonParseLines),
      nodeStart: { medianMs: round(median(nodeStart)), bestMs: round(Math.min(...nodeStart)) },
    };
    // CPython runs the small trace; the speedup compares it with memreplay's whole process on the same file.
    log(`CPython running web ${sizes.small} ...`);
    const python = await measureCPython(inputs.small);
    log(`this checkout (${ROOT}) ...`);
    const current = await measureCheckout(ROOT, inputs, sizes, options, log);
    const currentTargets = targetsOf(current, python);
    let baseline = null;
    if (options.baseline !== null) {
      log(`baseline (${options.baseline}) ...`);
      const results = await measureCheckout(options.baseline, inputs, sizes, options, log);
      baseline = { root: options.baseline, results, targets: targetsOf(results, python) };
    }

    const rows = [['checkout', 'measurement', 'value', 'time', 'target (issue 7)']];
    if (baseline !== null) rows.push(...rowsOf('before', baseline.results, baseline.targets));
    rows.push(...rowsOf(baseline === null ? 'this' : 'after', current, currentTargets));
    rows.push(
      ['baseline', `cat ${sizes.large / 1e6}M .jsonl > /dev/null (${mib(baselines.cat.bytes)})`, millions(baselines.cat.eventsPerSecond), `${baselines.cat.ms} ms`, ''],
      ['baseline', `JSON.parse of each line alone (${baselines.jsonParse.events / 1e6}M lines)`, millions(baselines.jsonParse.eventsPerSecond), `${baselines.jsonParse.ms} ms`, ''],
      ['baseline', 'Node.js start alone (node -e 0, median / best)', `${baselines.nodeStart.medianMs} / ${baselines.nodeStart.bestMs} ms`, '', ''],
      ['baseline', python.skipped === undefined ? `CPython ${python.python} timed loop, web ${sizes.small / 1e6}M` : 'CPython timed loop', python.skipped ?? millions(python.eventsPerSecond), python.skipped === undefined ? `${round(python.loopSeconds * 1000)} ms` : '', ''],
    );
    printTable(rows);

    const date = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
    const record = {
      date: new Date().toISOString(),
      mode: options.quick ? 'quick' : 'full',
      machine: { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
      commit: spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim() || null,
      sizes,
      targets: TARGETS,
      baselines: { ...baselines, cpython: python },
      results: current,
      met: currentTargets,
      before: baseline,
    };
    const out = join(ROOT, 'bench', 'results', `${date}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
    log(`written ${out}`);
  } finally {
    if (options.keep) log(`kept ${workdir}`);
    else rmSync(workdir, { recursive: true, force: true });
  }
}

await main();
