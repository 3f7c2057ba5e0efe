/**
 * Student's t distribution, the reference of the claims check's tests (docs/PROTOCOL.md,
 * "Statistics"): `df = Infinity` is the standard normal. Written from the definitions (no
 * statistics package is a dependency): the t tail is a regularized incomplete beta function and
 * the normal tail a regularized incomplete gamma function, each summed as a series or a
 * continued fraction; quantiles are found by bisection. Accurate to about 1e-12, far finer than
 * any p-value or interval the kit prints.
 */

/** P(T <= t) for Student's t with `df` degrees of freedom (df > 0; Infinity for the normal). */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) throw new Error(`studentTCdf: needs a number and df > 0 (t ${t}, df ${df})`);
  // The lower tail of -|t| is computed directly, so a small p-value keeps its digits.
  const tail = lowerTail(-Math.abs(t), df);
  return t <= 0 ? tail : 1 - tail;
}

/** The t with P(T <= t) = p (0 < p < 1). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new Error(`studentTQuantile: needs 0 < p < 1 and df > 0 (p ${p}, df ${df})`);
  const key = `${p}|${df}`;
  const known = QUANTILES.get(key);
  if (known !== undefined) return known;
  // The distribution is symmetric: search the upper half for max(p, 1 - p) and mirror.
  const upper = Math.max(p, 1 - p);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < upper) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < upper) lo = mid;
    else hi = mid;
  }
  const q = p >= 0.5 ? (lo + hi) / 2 : -(lo + hi) / 2;
  QUANTILES.set(key, q);
  return q;
}

/** Quantiles asked for again and again (0.975 and 0.8 at a handful of df) are found once. */
const QUANTILES = new Map<string, number>();

/** P(T <= t) for t <= 0. */
function lowerTail(t: number, df: number): number {
  if (df === Infinity) return 0.5 * erfc(-t / Math.SQRT2);
  // P(T <= -|t|) = I_x(df/2, 1/2) / 2 with x = df / (df + t²).
  return 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** erfc(x) = Q(1/2, x²) for x >= 0, and 2 - erfc(-x) below 0. */
function erfc(x: number): number {
  return x >= 0 ? upperIncompleteGamma(0.5, x * x) : 2 - upperIncompleteGamma(0.5, x * x);
}

/** log Γ(x) for x > 0: shifted up to x >= 10, then Stirling's series to x^-7 (error below 1e-12 there). */
function logGamma(x: number): number {
  let shift = 0;
  while (x < 10) {
    shift += Math.log(x);
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}

/** The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a). */
function upperIncompleteGamma(a: number, x: number): number {
  if (x === 0) return 1;
  const front = Math.exp(a * Math.log(x) - x - logGamma(a));
  if (x < a + 1) {
    // P(a, x) = x^a e^-x / Γ(a + 1) · Σ_n x^n / ((a + 1)···(a + n)): converges fast for x < a + 1.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - front * sum;
  }
  // Γ(a, x) = x^a e^-x / (x + 1 - a - 1·(1 - a) / (x + 3 - a - 2·(2 - a) / (x + 5 - a - ...))).
  return (
    front /
    continuedFraction(
      x + 1 - a,
      (n) => -n * (n - a),
      (n) => x + 2 * n + 1 - a,
    )
  );
}

/** The regularized incomplete beta function I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // The continued fraction converges fast below (a + 1) / (a + b + 2); above it, I_x(a, b) = 1 - I_{1-x}(b, a).
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(a * Math.log(x) + b * Math.log(1 - x) - (logGamma(a) + logGamma(b) - logGamma(a + b))) / a;
  // I_x(a, b) = front / (1 + d1 / (1 + d2 / (1 + ...))) with
  // d(2m+1) = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)), d(2m) = m (b - m) x / ((a + 2m - 1)(a + 2m)).
  const d = (n: number): number => {
    const m = Math.floor(n / 2);
    return n % 2 === 1 ? (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)) : (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
  };
  return front / continuedFraction(1, d, () => 1);
}

/** b0 + a(1) / (b(1) + a(2) / (b(2) + ...)), evaluated by the modified Lentz method. */
function continuedFraction(b0: number, a: (n: number) => number, b: (n: number) => number): number {
  const tiny = 1e-300;
  let f = b0 === 0 ? tiny : b0;
  let c = f;
  let d = 0;
  for (let n = 1; n < 10000; n++) {
    d = b(n) + a(n) * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = b(n) + a(n) / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return f;
}
