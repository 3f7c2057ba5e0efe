import { loadModel, type LoadedModel } from '../model/modelFile.js';
import { startPool, type ModelPool } from './modelPool.js';

/**
 * Run `use` with the model of `dir` loaded and, for more than one thread, a sampling pool over
 * it; the pool is stopped and the weights freed afterwards, whatever `use` does.
 */
export async function withModel<T>(dir: string, threads: number, use: (loaded: LoadedModel, pool: ModelPool | undefined) => Promise<T>): Promise<T> {
  const loaded = loadModel(dir);
  try {
    const pool = await startPool(loaded.model, loaded.schedule, threads);
    try {
      return await use(loaded, pool);
    } finally {
      await pool?.stop();
    }
  } finally {
    loaded.model.params.dispose();
  }
}
