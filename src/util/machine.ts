import { availableParallelism, cpus } from 'node:os';

/** "2 x AMD EPYC ...": the machine a result was measured on, for the READMEs beside results. */
export function machineLine(): string {
  return `${availableParallelism()} x ${cpus()[0]?.model ?? 'unknown CPU'}`;
}
