import { setFlagsFromString } from 'node:v8';

/**
 * V8's old-generation growing factor for training processes, as a percentage above 1: 300
 * makes it 4, the largest factor V8's own heuristic ever picks (kMaxGrowingFactor).
 *
 * Why: a training pass keeps thousands of small tfjs objects alive (tape nodes, saved
 * tensors, kernel records) for the whole pass, so every pass promotes a few MB of them into
 * the old generation, where they die. With a live JS heap of about 30 MB, V8 keeps the
 * old-generation limit close above it (its small-heap and memory-reducer modes cap the
 * factor at 1.1-1.3), so each isolate ran about one full mark-compact per step, marking
 * concurrently on V8's helper threads. With one thread those helpers run on the idle core;
 * with a worker per core they take CPU from the gradient passes. Measured on this 2-core
 * machine, base-S Self-DPO step of 16 pairs on 2 threads, 40 steps each: helper threads
 * used 4.1 s of CPU without the setting and 1.5 s with it, and the median step went from
 * 448 to 414 ms; the 1-thread step did not change (757 against 751 ms). Memory cost: the
 * old generation may hold up to 4x its live size before it is collected.
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
