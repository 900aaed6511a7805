import { describe, expect, it } from '@jest/globals';
import { Clock } from '../src/kube/clock.js';

describe('Clock', () => {
  it('runs simulated time 1/timeScale times faster than real time, from the real time', async () => {
    const before = Date.now();
    const clock = new Clock({ timeScale: 0.01 });
    expect(Math.abs(clock.now().getTime() - before)).toBeLessThan(1000);
    const sim0 = clock.nowMs();
    const real0 = performance.now();
    await new Promise((r) => setTimeout(r, 50));
    const simElapsed = clock.nowMs() - sim0;
    const realElapsed = performance.now() - real0;
    expect(simElapsed / realElapsed).toBeGreaterThan(95);
    expect(simElapsed / realElapsed).toBeLessThan(105);
  });

  it('fires setTimeout after simulated ms and can cancel it', async () => {
    const clock = new Clock({ timeScale: 0.001 });
    const start = clock.nowMs();
    const fired = await new Promise<number>((resolve) =>
      clock.setTimeout(() => resolve(clock.nowMs()), 30000),
    );
    expect(fired - start).toBeGreaterThanOrEqual(29000);
    let cancelled = true;
    const h = clock.setTimeout(() => {
      cancelled = false;
    }, 1000);
    clock.clearTimeout(h);
    await clock.sleep(20000);
    expect(cancelled).toBe(true);
  });

  it('sleep rejects with the abort reason', async () => {
    const clock = new Clock({ timeScale: 0.001 });
    const ac = new AbortController();
    const p = clock.sleep(1e9, ac.signal);
    ac.abort(new Error('cancelled by test'));
    await expect(p).rejects.toThrow('cancelled by test');
    await expect(clock.sleep(1, ac.signal)).rejects.toThrow('cancelled by test');
  });

  it('handles delays beyond the 24.8-day Node timer limit', async () => {
    const clock = new Clock({ timeScale: 1 });
    let fired = false;
    const h = clock.setTimeout(
      () => {
        fired = true;
      },
      40 * 24 * 3600 * 1000,
    );
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(false);
    clock.clearTimeout(h);
  });

  it('rejects a non-positive time scale', () => {
    expect(() => new Clock({ timeScale: 0 })).toThrow(RangeError);
  });
});
