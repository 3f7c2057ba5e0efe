/**
 * Centred moving average over `w` values (w odd: the value and (w - 1)/2 either side; an even w
 * takes the next odd), the window cut at the ends: a curve does not lag its steps, and no value
 * outside the series (such as step 1's zero) enters it.
 */
export function centredAverage(xs: readonly number[], w: number): number[] {
  const half = Math.max(0, Math.floor(w / 2));
  const prefix = [0];
  for (const x of xs) prefix.push((prefix[prefix.length - 1] as number) + x);
  return xs.map((_, i) => {
    const lo = Math.max(0, i - half);
    const hi = Math.min(xs.length, i + half + 1);
    return ((prefix[hi] as number) - (prefix[lo] as number)) / (hi - lo);
  });
}
