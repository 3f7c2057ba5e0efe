import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

/**
 * Every notebook runs headless, top to bottom, with the tslab kernel, against the compiled
 * core in dist/ (npm test builds it first). Where Jupyter is absent the test is skipped,
 * unless SELFDPO_REQUIRE_NOTEBOOKS=1 (as in CI), where that is a failure.
 */
const repo = resolve(__dirname, '..');
const notebooks = readdirSync(join(repo, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();
const out = mkdtempSync(join(tmpdir(), 'selfdpo-nb-'));
after(() => rmSync(out, { recursive: true, force: true }));

function jupyterMissing(): string | undefined {
  const kernels = spawnSync('jupyter', ['kernelspec', 'list'], { encoding: 'utf8' });
  if (kernels.error || kernels.status !== 0) {
    const probe = spawnSync('jupyter', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) return 'jupyter is not installed';
  } else if (!/\btslab\b/.test(kernels.stdout)) {
    return 'the tslab kernel is not registered (node_modules/.bin/tslab install)';
  }
  return undefined;
}

interface Output {
  output_type: string;
  ename?: string;
  evalue?: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
}

/** What each notebook's saved output must hold: sample sheets and charts (PNG/SVG, Vega-Lite), tables (markdown). */
const SHOWS: Record<string, string[]> = {
  '00-emoji-t2i.ipynb': ['image/png'],
  '01-quickstart.ipynb': ['image/png', 'image/svg+xml', 'application/vnd.vegalite.v5+json'],
  '02-ablations.ipynb': ['text/html', 'image/png', 'image/svg+xml', 'application/vnd.vegalite.v5+json'],
  '03-paper-tables.ipynb': ['text/markdown', 'text/html', 'image/png'],
  '04-implicit-accuracy.ipynb': ['image/png', 'text/html'],
  '05-samples.ipynb': ['image/png'],
};

const VEGA_LITE = 'application/vnd.vegalite.v5+json';

/** Notebooks that train, on a smoke budget in CI: their committed outputs must come from the real one. */
const TRAINS = ['01-quickstart.ipynb', '02-ablations.ipynb'];

/** Notebooks that only read committed files (results/, data/): their committed outputs must equal a fresh run's. */
const READS_COMMITTED = ['03-paper-tables.ipynb', '04-implicit-accuracy.ipynb', '05-samples.ipynb'];

/** A cell's outputs as compared: what it displayed and returned, without run counters or stream timing. */
function shownData(cells: ReadonlyArray<{ outputs?: Output[] }>): Array<Array<Record<string, unknown>>> {
  return cells.map((c) => (c.outputs ?? []).filter((o) => o.data !== undefined).map((o) => o.data as Record<string, unknown>));
}

/**
 * The committed notebook reads as a report: every cell that shows something when run shows it in
 * the committed file too; notebooks that train (01, 02) were committed from a real budget, not
 * CI's smoke one; and notebooks that only read committed results show exactly what a fresh run
 * shows, so a changed result without rerun notebooks fails here.
 */
function checkCommittedOutputs(nb: string, executedCells: ReadonlyArray<{ outputs?: Output[] }>): void {
  const committed = JSON.parse(readFileSync(join(repo, 'notebooks', nb), 'utf8')) as { cells: Array<{ outputs?: Output[] }> };
  const fresh = shownData(executedCells);
  const kept = shownData(committed.cells);
  fresh.forEach((outputs, i) =>
    assert.ok(
      outputs.length === 0 || (kept[i] ?? []).length > 0,
      `${nb}: cell ${i} shows something when run but its committed outputs are empty (run it and commit: npm run notebook, or jupyter nbconvert --execute --inplace)`,
    ),
  );
  // Notebooks that train say their budget in their first cell's output (a printed line, not data: "budget: real; 2 worker thread(s) ..."; prose that says "budget: by default" is not it).
  if (TRAINS.includes(nb)) assert.equal(JSON.stringify(committed.cells).match(/budget: (\w+); /)?.[1], 'real', `${nb}: not committed from a real budget`);
  if (READS_COMMITTED.includes(nb)) assert.deepEqual(kept, fresh, `${nb}: its committed outputs are stale against results/ (rerun it and commit)`);
}

const missing = jupyterMissing();
const required = process.env['SELFDPO_REQUIRE_NOTEBOOKS'] === '1';

test('there is at least one notebook', () => assert.ok(notebooks.length > 0));

for (const nb of notebooks) {
  test(`notebook ${nb} runs without errors`, { skip: missing !== undefined && !required ? missing : false }, () => {
    assert.equal(missing, undefined, missing);
    const r = spawnSync(
      'jupyter',
      ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.kernel_name=tslab', '--ExecutePreprocessor.timeout=600', '--output-dir', out, nb],
      // The smoke budget; the dataset, runs and charts go to a temp folder, never into the work tree.
      { cwd: join(repo, 'notebooks'), encoding: 'utf8', env: { ...process.env, SELFDPO_DATA_ROOT: join(out, 'data'), SELFDPO_NOTEBOOK_OUT: join(out, 'runs'), SELFDPO_NOTEBOOK_SMOKE: '1' } },
    );
    // A failing cell stops nbconvert before it writes (tslab sends no error output, only an
    // error reply): its stderr ends with the cell's source and the error.
    assert.ok(existsSync(join(out, nb)), `${nb}: nbconvert wrote nothing (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    const executed = JSON.parse(readFileSync(join(out, nb), 'utf8')) as { cells: Array<{ source?: string | string[]; outputs?: Output[] }> };
    const source = (c: { source?: string | string[] }): string => [c.source ?? ''].flat().join('').slice(0, 300);
    // Cells that ran but printed an error (a caught failure, a warning from a library).
    const problems = executed.cells
      .flatMap((c) => (c.outputs ?? []).map((o) => ({ ...o, cell: source(c) })))
      .filter((o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr' && /Error/.test(String(o.text))));
    assert.deepEqual(problems, [], `${nb}: ${JSON.stringify(problems).slice(0, 2000)}`);
    // Every notebook shows what it is for: its images, charts and tables are in the saved outputs.
    const shown = new Set(executed.cells.flatMap((c) => c.outputs ?? []).flatMap((o) => Object.keys(o.data ?? {})));
    for (const mime of SHOWS[nb] ?? []) assert.ok(shown.has(mime), `${nb}: no ${mime} output (outputs: ${[...shown].join(', ')})`);
    // A chart is one output with every representation (a front end draws the richest it knows, once).
    for (const o of executed.cells.flatMap((c) => c.outputs ?? [])) {
      const kinds = Object.keys(o.data ?? {});
      if (kinds.includes(VEGA_LITE)) assert.deepEqual(kinds.sort(), [VEGA_LITE, 'image/svg+xml', 'text/plain'].sort(), `${nb}: a chart output holds ${kinds.join(', ')}`);
      else assert.ok(!(kinds.length === 1 && kinds[0] === 'image/svg+xml'), `${nb}: an SVG output without its chart bundle`);
    }
    checkCommittedOutputs(nb, executed.cells);
    assert.equal(r.status, 0, `${nb}: nbconvert exited ${r.status}: ${r.stderr.slice(-2000)}`);
  });
}
