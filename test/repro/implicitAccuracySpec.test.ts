import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChartSvg } from '../../src/report/renderChart.js';
import { centredAverage, FIG5_PANELS, implicitAccuracyPoints, implicitAccuracySpec, probePairsLabel } from '../../src/repro/implicitAccuracyFigure.js';
import type { UnitRecord } from '../../src/repro/reproUnits.js';
import type { PostTrainStepRecord, ProbeRecord } from '../../src/train/postTrain.js';
import { LABELLED_LOSERS } from '../../src/train/pairProbe.js';

/** A run of `method` with `acc(step)` as its training implicit accuracy at steps 1-10 (step 1's 0, as a real run has it) and these probes. */
const unit = (method: string, seed: number, acc: (step: number) => number, probe: Array<[number, number]> = [], more: Partial<UnitRecord> = {}, downgrade = 'randomImage'): UnitRecord => ({
  unit: `${method}-s${seed}`,
  method,
  seed,
  evals: {},
  probe: probe.map(([step, a]): ProbeRecord => ({ step, set: 'emoji-pick-validation', downgrade, mse_w: 0, mse_l: 0, ref_w: 0, ref_l: 0, dpo: 0, implicit_acc: a })),
  metrics: Array.from({ length: 10 }, (_, i): PostTrainStepRecord => ({ step: i + 1, loss: 0, mse_w: 0, implicit_acc: i === 0 ? 0 : acc(i + 1), lr: 0, grad_norm: 0, sec: 0 })),
  ...more,
});

const near = (a: number | null | undefined, b: number): boolean => typeof a === 'number' && Math.abs(a - b) < 1e-12;

test('centredAverage: the value and w/2 either side, the window cut at the ends', () => {
  // w 4 -> 5 values centred; at the ends the window holds 3 (index 0: 1,2,3) and 4 (index 1: 1..4).
  assert.deepEqual(centredAverage([1, 2, 3, 4, 5, 6], 4), [2, 2.5, 3, 4, 4.5, 5]);
  assert.deepEqual(centredAverage([1, 5], 1), [1, 5]);
});

test('Figure 5 starts at step 2: a centred average of each seed from step 2, then the mean over seeds every smooth/2 steps', () => {
  // Seed 1's accuracy is step/10, seed 2's is 0; step 1 (0 by construction) is left out of both.
  const points = implicitAccuracyPoints([unit('self-dpo', 1, (s) => s / 10), unit('self-dpo', 2, () => 0)], 4).filter((p) => p.panel === FIG5_PANELS.training);
  assert.deepEqual(
    points.map((p) => p.step),
    [2, 4, 6, 8, 10],
  );
  // Window of 5 centred: step 2 -> seed 1 mean(0.2, 0.3, 0.4) = 0.3, seed 2 0 -> 0.15;
  // step 6 -> mean(0.4..0.8) = 0.6 -> 0.3; step 10 -> mean(0.8, 0.9, 1.0) = 0.9 -> 0.45.
  const at = (step: number): number => points.find((p) => p.step === step)?.implicit_acc as number;
  assert.ok(near(at(2), 0.15), String(at(2)));
  assert.ok(near(at(6), 0.3), String(at(6)));
  assert.ok(near(at(10), 0.45), String(at(10)));
  // Two seeds: a t interval (12.706 x sd / sqrt 2 = 1.906 at step 2), cut to [0, 1].
  const first = points[0];
  assert.ok(near(first?.low, 0) && near(first?.high, 1), JSON.stringify(first));
  // One seed: no band.
  const alone = implicitAccuracyPoints([unit('self-dpo', 1, (s) => s / 10)], 1).filter((p) => p.panel === FIG5_PANELS.training);
  assert.deepEqual(
    alone.map((p) => [p.step, Number(p.implicit_acc.toFixed(12)), p.low, p.high]),
    Array.from({ length: 9 }, (_, i) => [i + 2, (i + 2) / 10, null, null]),
  );
});

test("Figure 5's probe panel: each method's held-out probe from its first probe after step 0, the mean over seeds", () => {
  const units = [
    unit(
      'dpo',
      1,
      () => 0.5,
      [
        [0, 0],
        [8, 0.5],
        [16, 0.75],
      ],
      {},
      LABELLED_LOSERS,
    ),
    unit(
      'dpo',
      2,
      () => 0.5,
      [
        [0, 0],
        [8, 0.7],
        [16, 0.25],
      ],
      {},
      LABELLED_LOSERS,
    ),
  ];
  const probe = implicitAccuracyPoints(units, 1).filter((p) => p.panel === FIG5_PANELS.probe);
  assert.deepEqual(
    probe.map((p) => [p.method, p.step]),
    [
      ['Diffusion-DPO', 8],
      ['Diffusion-DPO', 16],
    ],
  );
  assert.ok(near(probe[0]?.implicit_acc, 0.6) && near(probe[1]?.implicit_acc, 0.5));
  assert.equal(probePairsLabel({ set: 'emoji-pick-validation', downgrade: LABELLED_LOSERS }), 'labelled pairs of emoji-pick-validation');
  assert.equal(probePairsLabel({ set: 'emoji-pick-validation', downgrade: 'blur' }), 'emoji-pick-validation winners, blur losers');
  // The subtitle names each method's probe pairs.
  const spec = JSON.parse(JSON.stringify(implicitAccuracySpec(units, 1))) as { title: { subtitle: string[] } };
  assert.ok(spec.title.subtitle.includes('· labelled pairs of emoji-pick-validation: Diffusion-DPO'), spec.title.subtitle.join('\n'));
});

test('Figure 5: a row of panels per base, every line its own dash, coinciding lines both drawn', async () => {
  // Self-DPO and Self-DPO w/o MSE with the same values (the paper preset's Table 4 at beta 5000), and a base-L run.
  const units = [
    unit('self-dpo', 1, (s) => s / 10, [[5, 0.8]]),
    unit('self-dpo-no-mse', 1, (s) => s / 10, [[5, 0.8]]),
    unit('dpo', 1, () => 0.5, [[5, 0.6]], {}, LABELLED_LOSERS),
    unit('self-dpo', 1, () => 0.9, [[5, 0.9]], { base: 'base-L' }),
  ];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- probing the spec's JSON
  const spec = JSON.parse(JSON.stringify(implicitAccuracySpec(units, 1))) as any;
  assert.deepEqual(spec.facet.row.sort, ['base-S', 'base-L']);
  assert.deepEqual(spec.facet.column.sort, ['training batches', 'held-out probe']);
  assert.deepEqual([...new Set(spec.data.values.map((v: { base: string }) => v.base))], ['base-S', 'base-L']);
  assert.ok(spec.data.values.every((v: { step: number; panel: string }) => v.step >= (v.panel === FIG5_PANELS.training ? 2 : 1)));
  // Methods in the reproduction's order, each its own dash pattern (the first solid), one line layer each, in that order.
  const methods = ['Diffusion-DPO', 'Self-DPO', 'Self-DPO w/o MSE'];
  assert.deepEqual(spec.spec.encoding.color.scale.domain, methods);
  const lines = spec.spec.layer.filter((l: { mark: { type: string } }) => l.mark.type === 'line');
  assert.deepEqual(
    lines.map((l: { transform: Array<{ filter: { equal: string } }> }) => l.transform[0]?.filter.equal),
    methods,
  );
  const dashes = lines[0].encoding.strokeDash.scale.range.map((d: number[]) => d.join(','));
  assert.equal(dashes[0], '1,0');
  assert.equal(new Set(dashes).size, methods.length);
  // Rendered: Self-DPO's and w/o MSE's identical curves are two paths with different dashes.
  const svg = await renderChartSvg(implicitAccuracySpec(units, 1), { onWarning: (m) => assert.fail(m) });
  const line = (method: string): { d: string; dash: string } => {
    const m = new RegExp(`<path aria-label="step: 2; [^"]*; method: ${method}" [^>]*aria-roledescription="line mark" d="([^"]*)"[^>]*stroke-dasharray="([^"]*)"`).exec(svg);
    assert.ok(m, `no line of ${method} in the SVG`);
    return { d: m[1] as string, dash: m[2] as string };
  };
  const [withMse, withoutMse] = [line('Self-DPO'), line('Self-DPO w/o MSE')];
  assert.equal(withMse.d, withoutMse.d, 'the same curve');
  assert.deepEqual([withMse.dash, withoutMse.dash], ['8,4', '3,3'], 'drawn with different dashes, the later one over the earlier');
  assert.ok(svg.indexOf('method: Self-DPO w/o MSE') > svg.indexOf('method: Self-DPO"'), 'w/o MSE is drawn after (over) Self-DPO');
});
