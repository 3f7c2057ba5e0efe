/**
 * What makes an SVG unsafe to hand to sharp: librsvg follows references to other files
 * (`<image href="file:///etc/passwd">`, `url(...)` in styles) and expands XML entities. A
 * user's image folder or pair set is untrusted input, so an SVG that refers to anything but
 * itself (`#id`) or inline data (`data:`) is refused, naming what it referred to.
 */
const SNIFF_BYTES = 4096;

/** Whether `bytes` look like SVG (XML or an `<svg` element near the start). */
export function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, SNIFF_BYTES)).toString('utf8').trimStart();
  return head.startsWith('<?xml') || head.startsWith('<svg') || head.startsWith('<!DOCTYPE svg') || /<svg[\s>]/.test(head);
}

/** Why this SVG is refused, or undefined when it refers only to itself and inline data. */
export function unsafeSvgReason(bytes: Uint8Array): string | undefined {
  if (!looksLikeSvg(bytes)) return undefined;
  const text = Buffer.from(bytes).toString('utf8');
  if (/<!ENTITY/i.test(text)) return 'it declares XML entities';
  const refs = [...text.matchAll(/\b(?:xlink:)?href\s*=\s*["']([^"']*)["']|\bsrc\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]*)/gi)].map((m) => (m[1] ?? m[2] ?? m[3] ?? '').trim());
  const external = refs.find((r) => r !== '' && !r.startsWith('#') && !r.toLowerCase().startsWith('data:'));
  return external === undefined ? undefined : `it refers to an outside resource (${external.length > 80 ? `${external.slice(0, 79)}…` : external}); only #ids and data: URLs are allowed`;
}
