/** Linear warmup from 0 over `warmupSteps`, then constant (the paper's post-training schedule). */
export function warmupConstant(step: number, lr: number, warmupSteps: number): number {
  if (warmupSteps <= 0) return lr;
  return lr * Math.min(1, (step + 1) / warmupSteps);
}
