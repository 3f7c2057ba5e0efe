/**
 * For each concept, the other concepts nearest first. Built once, outside the downgrade,
 * from the frozen text encoder's pooled vectors (see `conceptNeighbours`), so that
 * `nearestConcept` stays a pure function of its inputs.
 */
export type ConceptNeighbours = ReadonlyMap<string, readonly string[]>;

/**
 * The `k` nearest other concepts of each concept under cosine similarity of `vectors`
 * ([N,dim] row-major, row n for `keys[n]`): e.g. `encode(captions).pooled` of one caption
 * per concept, or the mean over several caption draws. Ties keep the order of `keys`, so
 * the table does not depend on the sort's stability. A concept is never its own neighbour.
 */
export function conceptNeighbours(keys: readonly string[], vectors: ArrayLike<number>, dim: number, k = 8): Map<string, string[]> {
  const N = keys.length;
  if (!(Number.isInteger(dim) && dim > 0)) throw new Error(`conceptNeighbours: dim must be a positive integer, got ${dim}`);
  if (vectors.length !== N * dim) throw new Error(`conceptNeighbours: ${N} keys x ${dim} = ${N * dim} values expected, got ${vectors.length}`);
  if (new Set(keys).size !== N) throw new Error('conceptNeighbours: keys must be distinct');
  // Unit rows in float64: cosine similarity is then a dot product.
  const unit = new Float64Array(N * dim);
  for (let n = 0; n < N; n++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += (vectors[n * dim + d] as number) ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 0)) throw new Error(`conceptNeighbours: the vector of '${keys[n]}' is zero or not finite`);
    for (let d = 0; d < dim; d++) unit[n * dim + d] = (vectors[n * dim + d] as number) / norm;
  }
  const table = new Map<string, string[]>();
  for (let n = 0; n < N; n++) {
    const scored: Array<{ m: number; s: number }> = [];
    for (let m = 0; m < N; m++) {
      if (m === n) continue;
      let s = 0;
      for (let d = 0; d < dim; d++) s += (unit[n * dim + d] as number) * (unit[m * dim + d] as number);
      scored.push({ m, s });
    }
    scored.sort((a, b) => b.s - a.s || a.m - b.m);
    table.set(
      keys[n] as string,
      scored.slice(0, k).map(({ m }) => keys[m] as string),
    );
  }
  return table;
}
