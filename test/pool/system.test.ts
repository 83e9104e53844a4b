import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../src/pool/index.js';
import { chunkBytes, SystemHeap } from '../../src/pool/system.js';
import { pythonOrSkip } from '../helpers/python.js';

/** Asks glibc, through ctypes in a real interpreter, how large the chunk of each request is. */
function glibcChunks(python: string, sizes: number[]): number[] {
  const script = `
import ctypes, json, sys
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.malloc_usable_size.restype = ctypes.c_size_t
libc.malloc_usable_size.argtypes = [ctypes.c_void_p]
libc.free.argtypes = [ctypes.c_void_p]
# M_MMAP_THRESHOLD (-3): pin the threshold at its default, so that earlier frees of mapped chunks
# cannot have raised it.
libc.mallopt(-3, 128 * 1024)
out = []
for n in json.loads(sys.argv[1]):
    # A free chunk at most 24 bytes too large is handed out whole (its remainder could not be a
    # chunk), so one allocation may show a larger size than the request needs: hold eight and
    # keep the smallest.
    held = [libc.malloc(n) for _ in range(8)]
    usable = min(libc.malloc_usable_size(p) for p in held)
    for p in held:
        libc.free(p)
    # musable(): a heap chunk has 8 bytes of header (SIZE_SZ), a mapped chunk 16 (CHUNK_HDR_SZ).
    out.append(usable + (16 if n >= 128 * 1024 else 8))
print(json.dumps(out))
`;
  const run = spawnSync(python, ['-E', '-S', '-c', script, JSON.stringify(sizes)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as number[];
}

describe('pool/system', () => {
  describe('chunk sizes', () => {
    it('rounds a request plus its 8-byte header up to 16 bytes, at least 32', () => {
      // 24 + 8 = 32; 25 + 8 = 33 → 48; 0 and 1 → 32 (MINSIZE); 512 + 8 = 520 → 528.
      expect([0, 1, 24, 25, 40, 41, 512].map((n) => chunkBytes(n))).toEqual([32, 32, 32, 48, 48, 64, 528]);
    });

    it('maps chunks of 128 KiB and more on their own, in whole pages', () => {
      // 200000 → chunk 200016 → mapping ⌈(200016 + 8) / 4096⌉ pages = 49 × 4096.
      expect(chunkBytes(200_000)).toBe(49 * 4096);
      expect(chunkBytes(131_064)).toBe(32 * 4096 + 4096);
    });

    // Between 128 KiB − 16 and a bit above, glibc may still serve a chunk from the top of the heap
    // when it has room: the model's mmap rule is an approximation there, so the band is not checked.
    it('matches glibc on this machine (malloc_usable_size through ctypes)', (context) => {
      const python = pythonOrSkip('3.11');
      if (python === null) return context.skip();
      const sizes = [...Array.from({ length: 300 }, (_, i) => i), 500, 511, 512, 513, 1000, 4096, 65536, 131_000, 200_000, 1_000_000];
      expect(sizes.map((n) => chunkBytes(n))).toEqual(glibcChunks(python, sizes));
    });
  });

  describe('the malloc policy', () => {
    it('counts every request as a chunk, with PyMem_RawMalloc turning 0 into 1', () => {
      const policy = createPool('malloc');
      const a = policy.allocate(0);
      const b = policy.allocate(100); // 100 + 8 → 112
      policy.resize(b, 1000); // 1008 → 1008
      let s = policy.snapshot();
      expect([s.malloc.allocations, s.malloc.reallocs, s.malloc.blocksInUse, s.bytesRequested, s.bytesReserved]).toEqual([2, 1, 2, 1001, 32 + 1008]);
      expect([s.sizeClasses.length, s.arenas.current, s.fragmentation.internal]).toEqual([0, 0, 1040 - 1001]);
      policy.release(a);
      s = policy.snapshot();
      expect([s.malloc.frees, s.bytesReserved, s.peakBytesReserved]).toEqual([1, 1008, 1040]);
      expect(policy.sizeClassOf(16)).toBe(-1);
    });

    it('refuses to free a block twice', () => {
      const heap = new SystemHeap();
      const h = heap.allocate(10);
      heap.release(h);
      expect(() => heap.release(h)).toThrow(/not live/);
    });

    it('reuses freed handles last-in first-out', () => {
      const heap = new SystemHeap();
      const [a, b] = [heap.allocate(1), heap.allocate(2)];
      heap.release(a);
      heap.release(b);
      expect([heap.allocate(3), heap.allocate(4)]).toEqual([b, a]);
    });
  });
});
