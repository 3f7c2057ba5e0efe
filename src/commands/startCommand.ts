import { join } from 'node:path';
import { defineCommand } from './command.js';
import { REPRODUCE_FLAGS, runReproduction } from './reproduceCommand.js';

/**
 * The main job on the embedded default: the shipped base-S's curated-val sample grid first
 * (runs/start/base-samples.png, within a minute or two of a fresh clone), then the quick
 * reproduction (Emoji-T2I built when missing, the shipped base-S, base-L and judges: every method
 * once from base-S and three from base-L on a small budget, evaluation, tables, Figure 5 and the
 * grids) into runs/start/, ending with
 * a short table and the paths written.
 * Rerunning resumes, and a finished run only redraws its report; --force starts over. The
 * committed quick results (results/quick/) come from `npm run reproduce -- --preset quick`.
 */
export const startCommand = defineCommand({
  name: 'start',
  summary: 'the main job: the quick reproduction on the default data, shipped base-S, base-L and judges, into runs/start',
  details: 'rerunning resumes; a finished run only redraws its report; --force starts over.',
  flags: REPRODUCE_FLAGS,
  run(args, argv) {
    const out = join('runs', 'start');
    return runReproduction(args, argv, { preset: 'quick', out, work: join(out, 'work'), command: 'npm start --', baseGrid: join(out, 'base-samples.png') });
  },
});
