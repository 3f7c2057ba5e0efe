/**
 * The Fréchet distance between Gaussians fitted to two feature sets (FID when the features are a
 * judge's): ||mu1 - mu2||² + tr(S1 + S2 - 2·(S1^½ S2 S1^½)^½). The matrix square roots are taken
 * by symmetric eigendecomposition (Jacobi), which is exact for the symmetric positive
 * semi-definite matrices involved, rather than of the non-symmetric S1·S2.
 */
export function frechetDistance(a: Float64Array | Float32Array, b: Float64Array | Float32Array, dim: number): number {
  const ga = gaussian(a, dim);
  const gb = gaussian(b, dim);
  let meanTerm = 0;
  for (let i = 0; i < dim; i++) meanTerm += ((ga.mean[i] as number) - (gb.mean[i] as number)) ** 2;
  const rootA = symmetricFunction(ga.cov, dim, (x) => Math.sqrt(Math.max(0, x)));
  const inner = multiply(multiply(rootA, gb.cov, dim), rootA, dim);
  const rootInner = symmetricFunction(symmetrize(inner, dim), dim, (x) => Math.sqrt(Math.max(0, x)));
  let trace = 0;
  for (let i = 0; i < dim; i++) trace += (ga.cov[i * dim + i] as number) + (gb.cov[i * dim + i] as number) - 2 * (rootInner[i * dim + i] as number);
  return meanTerm + trace;
}

/** Mean and (n - 1)-normalised covariance of n rows of `dim` features. */
export function gaussian(rows: Float64Array | Float32Array, dim: number): { mean: Float64Array; cov: Float64Array } {
  const n = rows.length / dim;
  if (!Number.isInteger(n) || n < 2) throw new Error(`frechetDistance: need at least 2 rows of ${dim} features, got ${rows.length} values`);
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) mean[i] = (mean[i] as number) + (rows[r * dim + i] as number) / n;
  const cov = new Float64Array(dim * dim);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < dim; i++) {
      const di = (rows[r * dim + i] as number) - (mean[i] as number);
      for (let j = i; j < dim; j++) cov[i * dim + j] = (cov[i * dim + j] as number) + di * ((rows[r * dim + j] as number) - (mean[j] as number));
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const v = (cov[i * dim + j] as number) / (n - 1);
      cov[i * dim + j] = v;
      cov[j * dim + i] = v;
    }
  }
  return { mean, cov };
}

function multiply(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k] as number;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] = (out[i * n + j] as number) + aik * (b[k * n + j] as number);
    }
  }
  return out;
}

function symmetrize(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = ((a[i * n + j] as number) + (a[j * n + i] as number)) / 2;
  return out;
}

/** f applied to a symmetric matrix through its eigendecomposition: V·f(L)·Vᵀ. */
export function symmetricFunction(a: Float64Array, n: number, f: (x: number) => number): Float64Array {
  const { values, vectors } = jacobiEigen(a, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const fk = f(values[k] as number);
    for (let i = 0; i < n; i++) {
      const vik = (vectors[i * n + k] as number) * fk;
      for (let j = 0; j < n; j++) out[i * n + j] = (out[i * n + j] as number) + vik * (vectors[j * n + k] as number);
    }
  }
  return out;
}

/** Cyclic Jacobi eigendecomposition of a symmetric matrix: eigenvalues and column eigenvectors. */
export function jacobiEigen(input: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += (a[p * n + q] as number) ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = ((a[q * n + q] as number) - (a[p * n + p] as number)) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i] as number;
  return { values, vectors: v };
}
