/** Randomness is injected and seeded (DESIGN.md): never Math.random() in routing or simulation. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
}

/** Mixes a string or number into a 32-bit seed. */
export function seedFrom(seed: number | string): number {
  if (typeof seed === 'number') return seed >>> 0;
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** sfc32 seeded through splitmix32: fast, good enough statistically, reproducible across runs. */
export function createRandom(seed: number | string = 1): Random {
  let s = seedFrom(seed);
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return {
    next() {
      const t = (((a + b) >>> 0) + d) >>> 0;
      d = (d + 1) >>> 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) >>> 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) >>> 0;
      return t / 4294967296;
    },
  };
}

/** An integer in [min, max] (inclusive). */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random.next() * (max - min + 1));
}

/** Exponentially distributed value with the given mean (for Poisson arrivals). */
export function randomExponential(random: Random, mean: number): number {
  return -Math.log(1 - random.next()) * mean;
}
