import { setFlagsFromString } from 'node:v8';

/**
 * V8's old-generation growing factor for training processes, as a percentage above 1: 300 makes
 * it 4, the largest V8's own heuristic picks. Each training pass promotes a few MB of tfjs
 * bookkeeping that V8 otherwise collects about once per step on helper threads, which took CPU
 * from the second worker (measured: docs/DESIGN.md, traps).
 */
export const HEAP_GROWING_PERCENT = 300;

const FLAG = '--heap-growing-percent';

let applied = false;

/**
 * Set V8's heap growing factor for this process (every isolate: the main thread's and
 * every worker's), unless the user set it on the command line or in NODE_OPTIONS. V8 reads
 * this flag each time it computes a heap limit, so setting it at run time takes effect at
 * the next collection; it is the only V8 flag the kit changes at run time. Returns whether
 * the kit's value is in force (false when the user's own is).
 */
export function widenHeapGrowth(): boolean {
  if (userSetHeapGrowth()) return false;
  if (!applied) {
    setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
    applied = true;
  }
  return true;
}

/** Whether the user gave V8's heap growing percentage to this process (flags or NODE_OPTIONS). */
export function userSetHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): boolean {
  const spellings = [FLAG, '--heap_growing_percent'];
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => spellings.some((s) => arg === s || arg.startsWith(`${s}=`)));
}
