import { afterEach, describe, expect, it, vi } from 'vitest';
import { Progress, progressText } from '../../src/cli/io.js';

describe('cli/progress', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
  });

  it('draws a bar with a percentage and the time left when the trace length is known', () => {
    expect(progressText('replaying', 450_000, 1.5, 1_000_000, 120)).toBe(
      'replaying [██████████████░░░░░░░░░░░░░░░░] 45% · 450,000/1,000,000 events · 0.30 M events/s · 2 s left',
    );
  });

  it('counts events and shows the rate when it is not', () => {
    expect(progressText('replaying', 1_234_567, 2, undefined, 120)).toBe('replaying: 1,234,567 events · 0.62 M events/s · 2.0 s');
  });

  it('never wraps in a narrow terminal', () => {
    for (const columns of [20, 40, 60, 80]) expect([...progressText('replaying', 450_000, 1.5, 1_000_000, columns)].length).toBeLessThan(columns);
  });

  it('redraws one line in place on a terminal, at most every 200 ms, and erases it when done', () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    vi.stubEnv('TERM', 'xterm-256color');
    const written: string[] = [];
    const stream = { isTTY: true, columns: 100, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const progress = new Progress('replaying', stream);
    progress.update(10, 1000); // too early: a short replay shows nothing
    vi.setSystemTime(600);
    progress.update(300, 1000);
    vi.setSystemTime(700);
    progress.update(400, 1000); // within 200 ms of the last draw
    vi.setSystemTime(900);
    progress.update(600, 1000);
    progress.done();
    expect(written).toEqual([
      `\r\x1b[2K${progressText('replaying', 300, 0.6, 1000, 100)}`,
      `\r\x1b[2K${progressText('replaying', 600, 0.9, 1000, 100)}`,
      '\r\x1b[2K',
    ]);
    expect(written[0]).toContain('30%');
  });

  it('draws nothing when stderr is not a terminal', () => {
    const written: string[] = [];
    const stream = { isTTY: false, columns: 80, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const progress = new Progress('replaying', stream);
    progress.update(1000, 2000);
    progress.done();
    expect(written).toEqual([]);
  });
});
