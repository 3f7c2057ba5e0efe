/**
 * JSON with every object's keys in sorted order: two values that hold the same data give the
 * same text whatever order their keys were written in (a record read back from an older format
 * and rebuilt has its keys in another order than one made today).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
