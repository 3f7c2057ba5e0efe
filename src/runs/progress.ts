import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomicWrite.js';

/** "1h02m", "3m05s", "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * Progress of a long job on stderr: one line per report, rewritten in place on a terminal.
 * The time left comes from the average pace since this process started (not since step 0,
 * so a resumed run's estimate is not skewed by the steps it skipped).
 */
export class Progress {
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    readonly label: string,
    readonly total: number,
    readonly firstStep: number,
  ) {}

  report(step: number, fields: Record<string, string>): void {
    const elapsed = (Date.now() - this.started) / 1000;
    const done = step - this.firstStep;
    const left = done > 0 ? ((this.total - step) * elapsed) / done : NaN;
    const parts = Object.entries(fields).map(([k, v]) => `${k} ${v}`);
    const line = `${this.label} step ${step}/${this.total}  ${parts.join('  ')}  left ${formatDuration(left)}`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K`);
    else process.stderr.write(`${line}\n`);
  }

  end(): void {
    if (this.tty) process.stderr.write('\n');
  }
}

/** A JSON-lines log (metrics.jsonl): one object per line, each with a `step`. */
export class JsonLines {
  constructor(readonly path: string) {}

  append(record: Record<string, unknown>): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }

  read(): Array<Record<string, unknown>> {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l, i) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new Error(`${this.path}:${i + 1}: not valid JSON`);
        }
      });
  }

  /**
   * Drop records after `step` (written after the checkpoint a resumed run restarts from, so
   * they will be written again) and any torn last line a kill left.
   */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const keep = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => {
        try {
          const r = JSON.parse(l) as { step?: number };
          return typeof r.step === 'number' && r.step <= step;
        } catch {
          return false;
        }
      });
    writeFileAtomic(this.path, keep.length > 0 ? `${keep.join('\n')}\n` : '');
  }
}
