/**
 * Picks the fastest tfjs backend present and registers the kernels we add.
 *
 * Preference: tfjs-node-gpu (CUDA) > tfjs-node (libtensorflow on CPU) > wasm (XNNPACK,
 * SIMD) > cpu (pure JS). The two native packages are optionalDependencies that fail to
 * install where libtensorflow cannot be downloaded, so they are loaded with `require`
 * inside try/catch and a missing or broken one falls through to the next. The real
 * tfjs-node is imported under its alias `tfjs-node-native`: `@tensorflow/tfjs-node` in
 * node_modules is an npm override pointing at plain @tensorflow/tfjs (for danfojs-node)
 * and would "load" without giving any native backend.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'node:path';
import { nativeKernelsLoaded, nativeKernelsStatus, registerWasmKernels } from './kernels/index.js';

/** Backend names as the user types them, fastest first. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

/** A backend the kit can run on. Both native ones are tfjs backend 'tensorflow'. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What `initBackend` chose. */
export interface BackendChoice {
  /** Our name of the backend. */
  name: BackendName;
  /** The tfjs backend name now active (`tf.getBackend()`). */
  tfBackend: string;
  /** Human-readable detail, e.g. "simd, 1 thread". */
  detail: string;
  /** Faster backends that automatic selection passed over, each with the reason. */
  skipped: string[];
}

/** Options of `initBackend`. */
export interface InitBackendOptions {
  /** Use exactly this backend, or throw; undefined picks the fastest present. */
  backend?: BackendName;
  /** Do not print the `backend: ...` line. */
  quiet?: boolean;
}

/** Environment variable that requests a backend (the `--backend` flag beats it). */
export const BACKEND_ENV_VAR = 'SELFDPO_BACKEND';

/** The npm package behind each native backend (aliases as named in package.json). */
const NATIVE_PACKAGE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: 'tfjs-node-native',
};

/** The npm package names work as backend names too. */
const PACKAGE_SYNONYMS: Record<string, BackendName> = {
  'tfjs-node-gpu': 'tensorflow-gpu',
  'tfjs-node': 'tensorflow',
};

/**
 * Parses a backend name (case-insensitive). 'auto' or an empty string mean "pick the
 * fastest" and give undefined; anything else unknown throws an error naming the value
 * and where it came from.
 */
export function parseBackendName(value: string, source = 'backend'): BackendName | undefined {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'auto') return undefined;
  const found = BACKEND_NAMES.find((n) => n === v) ?? PACKAGE_SYNONYMS[v];
  if (found === undefined) {
    throw new Error(`unknown backend '${value}' (from ${source}); expected one of ${BACKEND_NAMES.join(', ')}, tfjs-node, tfjs-node-gpu or auto`);
  }
  return found;
}

/**
 * The backend requested by `--backend NAME` / `--backend=NAME` in argv, else by the
 * SELFDPO_BACKEND environment variable, else undefined (pick the fastest). The flag
 * beats the environment; an unknown name throws an error that names it.
 */
export function backendFromEnvAndArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): BackendName | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--backend') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new Error(`--backend needs a value: one of ${BACKEND_NAMES.join(', ')} or auto`);
      }
      return parseBackendName(value, '--backend');
    }
    if (arg.startsWith('--backend=')) {
      return parseBackendName(arg.slice('--backend='.length), '--backend');
    }
  }
  const fromEnv = env[BACKEND_ENV_VAR];
  return fromEnv === undefined ? undefined : parseBackendName(fromEnv, BACKEND_ENV_VAR);
}

/** First line of an error's message, for one-line reasons. */
function reasonOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}

/**
 * Loads a native package and checks that it registered tfjs's 'tensorflow' backend
 * with *our* copy of tfjs (a package that loads but brings its own tfjs-core would
 * register elsewhere and leave us on a backend we cannot use). Returns a reason on
 * failure instead of throwing, so that automatic selection can fall through.
 */
function loadNative(name: 'tensorflow-gpu' | 'tensorflow'): string | undefined {
  const pkg = NATIVE_PACKAGE[name];
  try {
    // A plain require of a computed name: optional package, absent on most machines.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(pkg) as unknown;
  } catch (err) {
    // The packages register their kernels before they find their native addon missing; left
    // registered, the next package's load warns once per kernel (155 lines) that each exists.
    for (const kernel of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(kernel.kernelName, 'tensorflow');
    return `${pkg} did not load: ${reasonOf(err)}`;
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    return `${pkg} loaded but registered no 'tensorflow' backend with this @tensorflow/tfjs`;
  }
  return undefined;
}

async function activate(tfName: string): Promise<string | undefined> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
  } catch (err) {
    return `tf.setBackend('${tfName}') threw: ${reasonOf(err)}`;
  }
  // setBackend can report success while a concurrent switch wins; trust getBackend only.
  if (!ok || tf.getBackend() !== tfName) {
    return `tf.setBackend('${tfName}') failed (active backend: ${String(tf.getBackend())})`;
  }
  return undefined;
}

async function activateWasm(): Promise<string | undefined> {
  registerWasmKernels();
  const first = await activate('wasm');
  if (first === undefined) return undefined;
  // In Node the wasm package finds its .wasm files beside its own dist/ script; should
  // that fail (bundlers, odd layouts), point it there explicitly and retry once.
  try {
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(dir + path.sep);
  } catch (err) {
    return `${first}; setting wasm paths failed: ${reasonOf(err)}`;
  }
  const second = await activate('wasm');
  return second === undefined ? undefined : `${first}; with explicit wasm paths: ${second}`;
}

async function wasmDetail(): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = getThreadsCount();
  return `${simd === true ? 'simd' : 'no simd'}, ${threads} thread${threads === 1 ? '' : 's'}; ${nativeKernelsStatus()}`;
}

/** Tries one backend; returns the choice or the reason it is unavailable. */
async function tryBackend(name: BackendName): Promise<BackendChoice | string> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const why = loadNative(name) ?? (await activate('tensorflow'));
      if (why !== undefined) return why;
      const detail = name === 'tensorflow-gpu' ? 'libtensorflow, CUDA' : 'libtensorflow, CPU';
      return { name, tfBackend: 'tensorflow', detail, skipped: [] };
    }
    case 'wasm': {
      const why = await activateWasm();
      if (why !== undefined) return why;
      return { name, tfBackend: 'wasm', detail: await wasmDetail(), skipped: [] };
    }
    case 'cpu': {
      const why = await activate('cpu');
      if (why !== undefined) return why;
      return { name, tfBackend: 'cpu', detail: 'pure JS, for tests on tiny shapes', skipped: [] };
    }
  }
}

let current: BackendChoice | undefined;
let pending: Promise<BackendChoice> | undefined;

async function select(opts: InitBackendOptions): Promise<BackendChoice> {
  const requested = opts.backend;
  let choice: BackendChoice | undefined;
  if (requested !== undefined) {
    const got = await tryBackend(requested);
    if (typeof got === 'string') {
      // An explicit request is never silently replaced by a slower backend.
      throw new Error(`backend '${requested}' was requested but cannot be used: ${got}`);
    }
    choice = got;
  } else {
    const reasons: string[] = [];
    for (const name of BACKEND_NAMES) {
      const got = await tryBackend(name);
      if (typeof got !== 'string') {
        choice = { ...got, skipped: reasons };
        break;
      }
      reasons.push(`${name}: ${got}`);
    }
    if (choice === undefined) throw new Error(`no tfjs backend could be started:\n  ${reasons.join('\n  ')}`);
  }
  current = choice;
  if (opts.quiet !== true) {
    // Say which faster backends were passed over, so a GPU user sees at once why not CUDA.
    const passed = choice.skipped.map((r) => r.split(':')[0]).join(', ');
    const note = passed ? `; not available: ${passed} (--backend NAME shows why)` : '';
    process.stderr.write(`backend: ${choice.name} (${choice.detail})${note}\n`);
    if (choice.name === 'wasm' && !nativeKernelsLoaded()) {
      // The slow path must not pass unnoticed: it costs more than half of every run (results/bench/README.md: native speed-up 2.5-2.7x).
      process.stderr.write(
        'note: running without the native OpenBLAS kernels: training and sampling take about 2.5x as long as with them. Build them: sh scripts/setup.sh (gcc and OpenBLAS, then npm ci), or see README.md, Compute backends.\n',
      );
    }
  }
  return choice;
}

/**
 * Starts the requested backend, or the fastest one present, registers our wasm kernels,
 * prints `backend: NAME (detail)` on stderr unless quiet, and returns the choice.
 * Idempotent: a second call that asks for nothing new returns the first choice at once
 * (re-activating it if someone switched tfjs meanwhile); a call that names a different
 * backend switches to it. Throws if an explicitly requested backend cannot be used.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendChoice> {
  if (pending !== undefined) await pending.catch(() => undefined);
  const have = current;
  if (have !== undefined && (opts.backend === undefined || opts.backend === have.name)) {
    if (tf.getBackend() !== have.tfBackend) {
      const why = have.name === 'wasm' ? await activateWasm() : await activate(have.tfBackend);
      if (why !== undefined) throw new Error(`backend '${have.name}' cannot be re-activated: ${why}`);
    }
    return have;
  }
  pending = select(opts);
  try {
    return await pending;
  } finally {
    pending = undefined;
  }
}
