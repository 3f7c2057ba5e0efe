/** Linear warmup from 0 over `warmupSteps`, then constant (the paper's post-training schedule). */
export function warmupConstant(step: number, lr: number, warmupSteps: number): number {
  if (warmupSteps <= 0) return lr;
  return lr * Math.min(1, (step + 1) / warmupSteps);
}

/**
 * Warmup, constant, then a linear cooldown to 0 over the last `cooldownSteps` of `totalSteps`
 * (warmup-stable-decay, as in MiniCPM, Hu et al. 2024): the constant phase can run as long as
 * the loss keeps falling, and the cooldown, chosen when the run is ended, settles the weights.
 * The last step (totalSteps - 1) runs at lr / cooldownSteps.
 */
export function warmupStableDecay(step: number, lr: number, warmupSteps: number, totalSteps: number, cooldownSteps: number): number {
  const base = warmupConstant(step, lr, warmupSteps);
  if (cooldownSteps <= 0) return base;
  return base * Math.min(1, Math.max(0, totalSteps - step) / cooldownSteps);
}
