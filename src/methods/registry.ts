import { dpo } from './dpo.js';
import type { Method } from './method.js';
import { selfDpo } from './selfDpo.js';
import { sft } from './sft.js';

/** Every post-training method by name; a new one is one file and one line here. */
const REGISTRY = new Map<string, Method>([sft, dpo, selfDpo].map((m) => [m.name, m]));

/** The registered method names, in registry order. */
export function registeredMethodNames(): string[] {
  return [...REGISTRY.keys()];
}

/** The method called `name`; an unknown name throws an error listing the known ones. */
export function getMethod(name: string): Method {
  const method = REGISTRY.get(name);
  if (!method) throw new Error(`unknown method '${name}'; expected one of ${registeredMethodNames().join(', ')}`);
  return method;
}

/** Add a method at run time (a notebook's experiment, a test's toy); a taken name is an error. */
export function registerMethod(method: Method): void {
  if (REGISTRY.has(method.name)) throw new Error(`a method called '${method.name}' is already registered`);
  REGISTRY.set(method.name, method);
}
