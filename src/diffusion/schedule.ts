/** How the noise variances beta_1..beta_T are laid out. */
export type ScheduleKind = 'scaled-linear' | 'linear' | 'cosine';

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['scaled-linear', 'linear', 'cosine'];

/** A discrete noise schedule: index t = 0..T-1 is the DDPM timestep t+1. */
export interface NoiseSchedule {
  readonly kind: ScheduleKind;
  readonly steps: number;
  readonly betas: Float64Array;
  /** alpha_t = 1 - beta_t. */
  readonly alphas: Float64Array;
  /** alphaBar_t = prod_{s<=t} alpha_s: the signal fraction left at t (Eq. 1 of DDPM). */
  readonly alphaBar: Float64Array;
}

/**
 * - 'scaled-linear': Stable Diffusion's, betas = linspace(sqrt(0.00085), sqrt(0.012), T)^2;
 * - 'linear': DDPM's, betas = linspace(1e-4, 0.02, T);
 * - 'cosine': improved-DDPM's, alphaBar(t) = f(t)/f(0), f(t) = cos((t/T + s)/(1 + s) * pi/2)^2,
 *   s = 0.008, betas clipped at 0.999.
 */
export function makeSchedule(kind: ScheduleKind = 'scaled-linear', steps = 1000): NoiseSchedule {
  if (!(Number.isInteger(steps) && steps >= 2)) throw new Error(`schedule steps must be an integer >= 2, got ${steps}`);
  const betas = new Float64Array(steps);
  const linspace = (a: number, b: number, i: number): number => a + ((b - a) * i) / (steps - 1);
  if (kind === 'scaled-linear') {
    for (let i = 0; i < steps; i++) betas[i] = linspace(Math.sqrt(0.00085), Math.sqrt(0.012), i) ** 2;
  } else if (kind === 'linear') {
    for (let i = 0; i < steps; i++) betas[i] = linspace(1e-4, 0.02, i);
  } else if (kind === 'cosine') {
    const s = 0.008;
    const f = (t: number): number => Math.cos(((t / steps + s) / (1 + s)) * (Math.PI / 2)) ** 2;
    for (let i = 0; i < steps; i++) betas[i] = Math.min(1 - f(i + 1) / f(i), 0.999);
  } else {
    throw new Error(`unknown schedule "${String(kind)}" (known: ${SCHEDULE_KINDS.join(', ')})`);
  }
  const alphas = betas.map((b) => 1 - b);
  const alphaBar = new Float64Array(steps);
  let prod = 1;
  for (let i = 0; i < steps; i++) {
    prod *= alphas[i] as number;
    alphaBar[i] = prod;
  }
  return { kind, steps, betas, alphas, alphaBar };
}
