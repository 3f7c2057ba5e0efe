import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { parseJson, parseJsonIfWhole } from '../util/jsonFile.js';

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
      .flatMap((l, i) => (l.trim() === '' ? [] : [parseJson(l, `${this.path}:${i + 1}`) as Record<string, unknown>]));
  }

  /**
   * Drop records after `step` (written after the checkpoint a resumed run restarts from, so
   * they will be written again) and a torn last line a kill left. Any other line that is not a
   * record is an error naming it: dropping it would leave a hole in the log for good.
   */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const lines = readFileSync(this.path, 'utf8').split('\n');
    let last = lines.length - 1;
    while (last >= 0 && (lines[last] as string).trim() === '') last -= 1;
    const keep = lines.filter((l, i) => {
      if (l.trim() === '') return false;
      const r = parseJsonIfWhole(l) as { step?: unknown } | undefined;
      const isRecord = typeof r === 'object' && r !== null && typeof r.step === 'number';
      if (!isRecord && i !== last && step !== -Infinity) {
        throw new Error(`${this.path}:${i + 1}: not a record of this log (a garbled or edited line); only a last line cut by a kill is dropped. Pass --force to start the run over`);
      }
      return isRecord && (r.step as number) <= step;
    });
    writeFileAtomic(this.path, keep.length > 0 ? `${keep.join('\n')}\n` : '');
  }
}
