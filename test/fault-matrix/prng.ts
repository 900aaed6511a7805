/** A small seedable PRNG (mulberry32) and the draws the fault matrix makes with it. */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** A float in [min, max). */
  float(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A 31-bit seed for something else that takes one (the sandbox's Faults). */
  seed(): number;
}

export function prng(seed: number): Prng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    float: (min, max) => min + next() * (max - min),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    seed: () => Math.floor(next() * 0x7fffffff),
  };
}

/** The seed of a run: FAULT_MATRIX_SEED when set (a decimal integer), else the fixed default. */
export function matrixSeed(env: Record<string, string | undefined>, fallback: number): number {
  const text = env.FAULT_MATRIX_SEED?.trim();
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,10}$/.test(text)) throw new Error(`FAULT_MATRIX_SEED must be a decimal integer, got "${text}"`);
  return Number(text) >>> 0;
}

/** A positive count from the environment, else the fallback. */
export function envCount(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1)
    throw new Error(`${name} must be a positive integer, got "${text}"`);
  return Number(text);
}
