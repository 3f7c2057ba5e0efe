import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** How busy the machine is, for benchmarks that must say whether other work disturbed them. */

export function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return (m[1] as string).trim();
  } catch {
    // not Linux: fall back to Node's view
  }
  return cpus()[0]?.model ?? 'unknown';
}

/** Busy CPU ticks of the whole machine and of this process (with its waited-for children, e.g. PyTorch). */
export interface CpuSample {
  wallMs: number;
  busy: number;
  self: number;
}

export function cpuSample(): CpuSample | null {
  try {
    const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] as string).trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user/nice)
    const busy = f.slice(0, 8).reduce((a, b, i) => (i === 3 || i === 4 ? a : a + (b || 0)), 0);
    const st = readFileSync('/proc/self/stat', 'utf8');
    const g = st
      .slice(st.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number); // g[0] is field 3 (state)
    return { wallMs: performance.now(), busy, self: (g[11] as number) + (g[12] as number) + (g[13] as number) + (g[14] as number) };
  } catch {
    return null; // not Linux
  }
}

/** Cores' worth of CPU that other processes used between two samples (USER_HZ = 100 ticks/s). */
export function otherCores(a: CpuSample | null, b: CpuSample | null): number | null {
  if (a === null || b === null || b.wallMs <= a.wallMs) return null;
  return Math.max(0, (b.busy - a.busy - (b.self - a.self)) / 100 / ((b.wallMs - a.wallMs) / 1000));
}
