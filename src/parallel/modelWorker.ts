import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend.js';
import { makeSchedule } from '../diffusion/schedule.js';
import { TextToImageModel } from '../model/textToImage.js';
import { Tokenizer } from '../text/tokenizer.js';
import { denoisingGradients } from './denoisingGradients.js';
import { FlatLayout } from './flatParams.js';
import { sampleBytes } from './sampleBytes.js';
import type { Params } from '../model/params.js';
import { adamWRange, emaRange, sumRange } from '../optim/flatAdamW.js';
import { pairGradients } from './pairGradients.js';
import type { PairStats, WorkerReply, WorkerRequest, WorkerSetup } from './protocol.js';

/**
 * A model worker: its own tfjs instance and its own copy of the model. For each job it loads
 * the current weights from the shared buffer (unless a 'pull' after the last update already
 * did, while the main thread loaded its own), then either computes its share's gradients and
 * writes them, flat, into its shared gradient buffer, or draws its share of a sample batch.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('modelWorker must run in a worker thread');
  const setup = workerData as WorkerSetup;
  await initBackend({ backend: setup.backend, quiet: true });
  const model = TextToImageModel.create(setup.model, new Tokenizer(setup.tokenizer), 0);
  loadFlat(model.params, setup.initial);
  // The frozen reference of preference jobs (the starting weights unless given), made on first use.
  let reference: Params | undefined;
  const schedule = makeSchedule(setup.schedule.kind, setup.schedule.steps);
  const variables = setup.names.map((n) => model.params.variable(n));
  const layout = FlatLayout.of(setup.names, variables);
  const weights = new Float32Array(setup.weights);
  const out = new Float32Array(setup.grads);
  const reply = (m: WorkerReply): void => port.postMessage(m);
  /** The trained variables from the shared weights. */
  const pull = (): void => layout.write(variables, weights);
  const opt = setup.optimizer;
  const shared = opt && {
    state: { w: weights, m: new Float32Array(opt.m), v: new Float32Array(opt.v), decay: new Uint8Array(opt.decay) },
    ema: opt.ema && new Float32Array(opt.ema),
    grads: opt.grads.map((g) => new Float32Array(g)),
  };
  port.on('message', (msg: WorkerRequest) => {
    if (msg.type === 'stop') {
      model.params.dispose();
      reference?.dispose();
      port.close();
      return;
    }
    if (msg.type === 'pull') {
      pull();
      return;
    }
    if (msg.type === 'reduce' || msg.type === 'update') {
      try {
        if (!shared) throw new Error('this pool was started without a shared optimizer');
        const [a, b] = msg.range;
        if (msg.type === 'reduce') {
          reply({ type: 'reduced', id: msg.id, squares: sumRange(shared.grads, a, b) });
        } else {
          adamWRange(shared.state, shared.grads[0] as Float32Array, a, b, msg.hyper);
          if (msg.ema && shared.ema) emaRange(shared.ema, weights, a, b, msg.ema.decay, msg.ema.updates);
          reply({ type: 'updated', id: msg.id });
        }
      } catch (err) {
        reply({ type: 'error', id: msg.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
      return;
    }
    try {
      if (msg.pull) pull();
      const job = msg.job;
      if (job.kind === 'sample') {
        void sampleBytes(model, schedule, job).then(
          (images) =>
            port.postMessage(
              { type: 'images', id: msg.id, images } satisfies WorkerReply,
              images.map((b) => b.buffer as ArrayBuffer),
            ),
          (err: unknown) => reply({ type: 'error', id: msg.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
        );
        return;
      }
      let result: { grads: tf.Tensor[]; loss: number; stats?: PairStats };
      if (job.kind === 'pairs') {
        if (!reference) {
          reference = model.params.clone(false);
          loadFlat(reference, setup.reference ?? setup.initial);
        }
        result = pairGradients(model, reference, schedule, variables, job);
      } else {
        result = denoisingGradients(model, schedule, variables, job);
      }
      const { grads, loss, stats } = result;
      layout.read(grads, out);
      tf.dispose(grads);
      reply({ type: 'done', id: msg.id, loss, stats });
    } catch (err) {
      reply({ type: 'error', id: msg.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
  reply({ type: 'ready' });
}

/** Set every parameter, in `params.names` order, from one flat array. */
function loadFlat(params: Params, flat: Float32Array): void {
  const variables = params.names.map((n) => params.variable(n));
  const layout = FlatLayout.of(params.names, variables);
  if (layout.size !== flat.length) throw new Error(`worker: ${flat.length} initial weights for a model of ${layout.size}`);
  layout.write(variables, flat);
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'error', id: -1, message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies WorkerReply);
});
