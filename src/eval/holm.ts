/**
 * Holm's step-down adjustment of p-values (docs/PROTOCOL.md, "Statistics"): sorted ascending,
 * the i-th smallest of m becomes max over j <= i of min(1, (m - j + 1)·p(j)), returned in the
 * order given. Rejecting where the adjusted value is below alpha keeps the chance of any false
 * rejection among the m at or below alpha, whatever the dependence between them (Holm 1979),
 * and rejects at least as often as Bonferroni.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new Error(`holmAdjust: p-value ${i} is ${p}, not in [0, 1]`);
  });
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((i, j) => (pValues[i] as number) - (pValues[j] as number));
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach((index, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * (pValues[index] as number)));
    adjusted[index] = running;
  });
  return adjusted;
}
