import type { Command } from './command.js';
import { compareCommand } from './compareCommand.js';
import { dataCommand } from './dataCommand.js';
import { evalCommand } from './evalCommand.js';
import { judgesCommand } from './judgesCommand.js';
import { pickCommand } from './pickCommand.js';
import { postTrainCommand } from './postTrainCommand.js';
import { pretrainCommand } from './pretrainCommand.js';
import { reproduceCommand } from './reproduceCommand.js';
import { sampleCommand } from './sampleCommand.js';
import { shipCommand } from './shipCommand.js';
import { startCommand } from './startCommand.js';
import { tuneCommand } from './tuneCommand.js';
import { queueCommand } from './queueCommand.js';
import { workerCommand } from './workerCommand.js';

/** Every command, in the order the help lists them: the main job first, then a researcher's path through the kit. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  dataCommand,
  pretrainCommand,
  shipCommand,
  sampleCommand,
  judgesCommand,
  pickCommand,
  postTrainCommand,
  compareCommand,
  evalCommand,
  tuneCommand,
  reproduceCommand,
  workerCommand,
  queueCommand,
];
