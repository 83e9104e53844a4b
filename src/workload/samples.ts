/**
 * The sample traces bundled in `traces/`: each tells one story of CPython's memory model, and
 * `traces/README.md` explains what to look at. `scripts/make-traces.mjs` writes every sample in
 * the three encodings (`name.jsonl`, `name.json`, `name.csv`), and
 * `test/workload/samples.test.ts` checks that regenerating them gives the committed bytes.
 *
 * Two are written by hand (`refcount-frees`) or scripted event by event (`cycle`) so that every
 * event can be explained; the others are short runs of the workload generators.
 */
import type { TraceEvent, TraceHeader } from '../trace/types.js';
import { cacheLeak } from './cache-leak.js';
import { freeze } from './freeze.js';
import { Mutator, type Handle } from './mutator.js';
import { INSTANCE_BYTES, listBytes, strBytes } from './sizes.js';
import { web } from './web.js';
import { WORKLOAD_PYTHON_VERSION, type WorkloadModule, type WorkloadOptions } from './workload.js';

export interface SampleTrace {
  /** File name without extension. */
  readonly name: string;
  /** One line: what the trace shows. */
  readonly description: string;
  readonly header: TraceHeader;
  /** The events (a fresh array on every call). */
  events(): TraceEvent[];
}

function sampleHeader(description: string, source: string): TraceHeader {
  return { format: 'memreplay', version: 1, meta: { python: WORKLOAD_PYTHON_VERSION, description, source } };
}

/**
 * `refcount-frees`, line by line (demo.py on CPython 3.12; sizes as `sys.getsizeof` gives them).
 * Every object is freed by reference counting at the exact event where its last reference goes;
 * no collection is involved. Comments give the Python line and each object's refcount after it.
 */
const REFCOUNT_FREES_EVENTS: readonly TraceEvent[] = [
  // items = []                               list 1: 1
  { op: 'alloc', id: 1, type: 'list', size: 56, site: 'demo.py:1' },
  // name = "report-2024.txt"                 str 2: 1  (41 + 15 characters)
  { op: 'alloc', id: 2, type: 'str', size: 56, tracked: false, site: 'demo.py:2' },
  // items.append(name)                       the item array grows to 4 slots; str 2: 2
  { op: 'resize', id: 1, size: 88 },
  { op: 'link', src: 1, dst: 2 },
  // alias = items                            list 1: 2
  { op: 'incref', id: 1 },
  // del name                                 str 2: 1 (only the list holds it)
  { op: 'decref', id: 2 },
  // x = 0.5 * n; y = x + 1                   floats 3, 4: 1 each
  { op: 'alloc', id: 3, type: 'float', size: 24, tracked: false, site: 'demo.py:6' },
  { op: 'alloc', id: 4, type: 'float', size: 24, tracked: false, site: 'demo.py:7' },
  // point = (x, y)                           tuple 5: 1; floats: 2 each
  { op: 'alloc', id: 5, type: 'tuple', size: 56, site: 'demo.py:8' },
  { op: 'link', src: 5, dst: 3 },
  { op: 'link', src: 5, dst: 4 },
  // del x, y                                 floats: 1 each (the tuple)
  { op: 'decref', id: 3 },
  { op: 'decref', id: 4 },
  // items.append(point); del point           tuple 5: 1 (the list)
  { op: 'link', src: 1, dst: 5 },
  { op: 'decref', id: 5 },
  // del items                                list 1: 1 (alias still names it): nothing is freed
  { op: 'decref', id: 1 },
  { op: 'mark', label: 'del alias: the last reference to the list goes' },
  // del alias                                list 1: 0 → freed, and with it str 2, tuple 5, floats 3, 4
  { op: 'decref', id: 1 },
  // data = b"x" * 1000; data = None          bytes 6: freed at once (33 + 1000 bytes, beyond pymalloc's 512)
  { op: 'alloc', id: 6, type: 'bytes', size: 1033, tracked: false, site: 'demo.py:14' },
  { op: 'decref', id: 6 },
  // text = f"user:{uid}"; text += "-archived"  a str nothing else references grows in place
  { op: 'alloc', id: 7, type: 'str', size: 51, tracked: false, site: 'demo.py:16' },
  { op: 'resize', id: 7, size: 60 },
  // cache = {}                               id 1 again: the list's address was freed and reused
  { op: 'alloc', id: 1, type: 'dict', size: 64, site: 'demo.py:18' },
  // cache[text] = uid * 1000                 int 2: 1 (id reused too); the dict gets a keys table
  { op: 'alloc', id: 2, type: 'int', size: 28, tracked: false, site: 'demo.py:19' },
  { op: 'resize', id: 1, size: 184 },
  { op: 'link', src: 1, dst: 7 },
  { op: 'link', src: 1, dst: 2 },
  { op: 'decref', id: 2 },
  // del text                                 str 7: 1 (the dict's key)
  { op: 'decref', id: 7 },
  { op: 'mark', label: 'del cache: one decref frees the dict, its key and its value' },
  // del cache                                dict 1: 0 → freed with str 7 and int 2
  { op: 'decref', id: 1 },
];

export const refcountFrees: SampleTrace = {
  name: 'refcount-frees',
  description: 'Objects freed by reference counting the moment their last reference goes: a list with a str and a tuple of floats, freed in one cascade when its last name is deleted; ids reused once freed.',
  get header() {
    return sampleHeader(this.description, 'hand-written (src/workload/samples.ts)');
  },
  events: () => REFCOUNT_FREES_EVENTS.map((event) => ({ ...event })),
};

/** `cycle`: lengths of the chain and of the ring. */
export const CHAIN_NODES = 40;
export const RING_NODES = 60;

/**
 * `cycle`: the same linked nodes freed two ways. A chain goes by reference counting when its
 * head's name is deleted; a ring (the last node points back to the first) keeps every refcount
 * at 1 when its name goes, and only `gc.collect()` frees it, with a self-referencing list and a
 * cycle through an object with `__del__`. A cycle through an object with a legacy `tp_del`
 * finalizer is found but not freed: it goes to `gc.garbage`.
 *
 *   gc.disable()                       # so that only the explicit collect runs
 *   head = prev = Node('n0')
 *   for i in range(1, N):
 *       node = Node(f'n{i}'); prev.next = node; prev = node
 *   prev.next = head                   # the ring only
 *   del head, prev, node
 */
function cycleEvents(): TraceEvent[] {
  const m = new Mutator({ ids: 'integer', reuseIds: true });
  const site = (line: number): string => `cycle.py:${line}`;

  const buildNodes = (count: number, ring: boolean, line: number): void => {
    const newNode = (i: number): Handle => {
      const node = m.allocContainer('Node', INSTANCE_BYTES, site(line));
      m.store(node, m.allocAtom('str', strBytes(`n${i}`.length), site(line)));
      return node;
    };
    const head = newNode(0);
    let prev = head;
    m.incref(head); // prev = head
    for (let i = 1; i < count; i++) {
      const node = newNode(i);
      m.link(prev, node); // prev.next = node
      m.incref(node); // prev = node
      m.decref(prev);
      if (i < count - 1) m.decref(node); // the loop rebinds `node`
      else {
        if (ring) m.link(node, head); // prev.next = head
        m.decref(node); // del node
      }
      prev = node;
    }
    m.decref(prev); // del prev
    m.mark(ring ? `del head: a ring of ${count} nodes, every refcount still 1, nothing freed` : `del head: a chain of ${count} nodes, freed at once by reference counting`);
    m.decref(head); // del head
  };

  m.setGcEnabled(false);
  buildNodes(CHAIN_NODES, false, 4);
  buildNodes(RING_NODES, true, 9);

  // l = []; l.append(l); del l           a list that contains itself
  const selfList = m.allocContainer('list', listBytes(0), site(14));
  m.resize(selfList, listBytes(4));
  m.link(selfList, selfList);
  m.decref(selfList);

  // r = Resource(); r.owner = Owner(r); del r   a cycle through an object with __del__ (PEP 442)
  const resource = m.allocContainer('Resource', INSTANCE_BYTES, site(17), 'del');
  const owner = m.allocContainer('Owner', INSTANCE_BYTES, site(17));
  m.link(owner, resource);
  m.store(resource, owner);
  m.decref(resource);

  // a cycle through an extension object with a legacy tp_del: found, but uncollectable
  const legacy = m.allocContainer('LegacyHandle', INSTANCE_BYTES, site(21), 'legacy');
  const holder = m.allocContainer('list', listBytes(4), site(21));
  m.link(holder, legacy);
  m.store(legacy, holder);
  m.decref(legacy);

  m.mark('gc.collect(): frees the ring, the list and the __del__ cycle; the legacy cycle goes to gc.garbage');
  m.collect(2);
  m.setGcEnabled(true);
  return m.pending.splice(0);
}

export const cycle: SampleTrace = {
  name: 'cycle',
  description: 'Reference cycles only the cycle collector frees: a chain of nodes goes by reference counting, a ring of nodes, a self-referencing list and a __del__ cycle survive their last name until gc.collect(); a cycle with a legacy finalizer ends in gc.garbage.',
  get header() {
    return sampleHeader(this.description, 'scripted event by event (src/workload/samples.ts)');
  },
  events: cycleEvents,
};

/** A sample that is a short run of a workload generator. */
function workloadSample(name: string, module: WorkloadModule, options: WorkloadOptions, description: string): SampleTrace {
  return {
    name,
    description,
    get header() {
      const header = module.generateHeader(options);
      return { ...header, meta: { ...header.meta, description } };
    },
    events: () => [...module.generate(options)],
  };
}

/**
 * NOTE on the web sample's seed: the sample is short (34 requests) and cycles come with 2%
 * of requests, so most seeds show none or one. Seed 32 leaves three (two caught exceptions, one
 * connection with its cursor): the first seed, trying 1, 2, 3…, to show both kinds. The other
 * samples use seed 1.
 */
export const WEB_SAMPLE_SEED = 32;
export const WEB_SAMPLE_EVENTS = 6_000;

export const sampleTraces = {
  'refcount-frees': refcountFrees,
  cycle,
  'cache-leak': workloadSample('cache-leak', cacheLeak, { events: 3_000, seed: 1 }, 'A memoizing cache dict that only grows: the reachable live set rises call after call, and the periodic gc.collect() frees none of it.'),
  web: workloadSample('web', web, { events: WEB_SAMPLE_EVENTS, seed: WEB_SAMPLE_SEED }, 'A web application serving requests: everything a request allocates is freed by reference counting when it ends, except the reference cycles a few requests leave behind (a caught exception holding its frame and the request; a connection and its cursor).'),
  freeze: workloadSample('freeze', freeze, { events: 3_000, seed: 1 }, 'A pre-fork server: imports modules with the collector disabled, calls gc.freeze() so start-up objects are never scanned again, then serves requests; gc.unfreeze() near the end.'),
} satisfies Record<string, SampleTrace>;

export type SampleTraceName = keyof typeof sampleTraces;
