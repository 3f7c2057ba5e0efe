import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_ENV_VAR, backendFromEnvAndArgs, initBackend, parseBackendName } from '../src/backend.js';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

test('backendFromEnvAndArgs: flag beats env, env beats nothing', () => {
  assert.equal(backendFromEnvAndArgs(['train', '--backend', 'cpu'], { [BACKEND_ENV_VAR]: 'wasm' }), 'cpu');
  assert.equal(backendFromEnvAndArgs(['--backend=wasm'], { [BACKEND_ENV_VAR]: 'cpu' }), 'wasm');
  assert.equal(backendFromEnvAndArgs(['train'], { [BACKEND_ENV_VAR]: 'wasm' }), 'wasm');
  assert.equal(backendFromEnvAndArgs(['train'], {}), undefined);
  assert.equal(backendFromEnvAndArgs(['--backend', 'auto'], { [BACKEND_ENV_VAR]: 'cpu' }), undefined);
  assert.equal(backendFromEnvAndArgs([], { [BACKEND_ENV_VAR]: 'TensorFlow-GPU' }), 'tensorflow-gpu');
});

test('backendFromEnvAndArgs: an unknown name throws an error that names it', () => {
  assert.throws(() => backendFromEnvAndArgs(['--backend', 'webgpu'], {}), /unknown backend 'webgpu' \(from --backend\)/);
  assert.throws(() => backendFromEnvAndArgs([], { [BACKEND_ENV_VAR]: 'cuda' }), /unknown backend 'cuda' \(from SELFDPO_BACKEND\)/);
  // Even when the env is valid, a bad flag is an error rather than silently ignored.
  assert.throws(() => backendFromEnvAndArgs(['--backend=gpu'], { [BACKEND_ENV_VAR]: 'cpu' }), /'gpu'/);
  assert.throws(() => backendFromEnvAndArgs(['--backend'], {}), /--backend needs a value/);
  assert.throws(() => parseBackendName('tfjs'), /tensorflow-gpu, tensorflow, wasm, cpu/);
});

test('initBackend({backend: "cpu"}) gives cpu, and repeating it is a no-op', async () => {
  const a = await initBackend({ backend: 'cpu', quiet: true });
  assert.equal(a.name, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const b = await initBackend({ quiet: true });
  assert.equal(b, a, 'a call without a request keeps the current choice');
});

test('initBackend({backend: "wasm"}) gives wasm with our conv gradient kernels', async () => {
  const c = await initBackend({ backend: 'wasm', quiet: true });
  assert.equal(c.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(c.detail, /simd, \d+ threads?/);
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined);
  // Someone switching tfjs behind our back is repaired by the next call.
  await tf.setBackend('cpu');
  const again = await initBackend({ quiet: true });
  assert.equal(again, c);
  assert.equal(tf.getBackend(), 'wasm');
});

for (const name of ['tensorflow', 'tensorflow-gpu'] as const) {
  test(`requesting '${name}' where its native package is absent throws a clear error`, async (t) => {
    let err: unknown;
    try {
      await initBackend({ backend: name, quiet: true });
    } catch (e) {
      err = e;
    }
    if (err === undefined) {
      t.skip(`${name} loaded on this machine, so the "absent" error cannot be checked here`);
      await initBackend({ backend: 'cpu', quiet: true });
      return;
    }
    assert.ok(err instanceof Error);
    assert.match(err.message, new RegExp(`backend '${name}' was requested but cannot be used`));
    assert.match(err.message, name === 'tensorflow' ? /tfjs-node-native/ : /@tensorflow\/tfjs-node-gpu/);
    // A failed explicit request does not fall back silently, and leaves tfjs usable.
    const c = await initBackend({ backend: 'cpu', quiet: true });
    assert.equal(c.name, 'cpu');
  });
}

test('package names work as backend names', () => {
  assert.equal(parseBackendName('tfjs-node-gpu'), 'tensorflow-gpu');
  assert.equal(parseBackendName('tfjs-node'), 'tensorflow');
});

test('automatic selection prints its choice and the faster backends it passed over', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('./src/backend.ts').initBackend()"], {
    cwd: resolve(__dirname, '..'),
    encoding: 'utf8',
    env: { ...process.env, [BACKEND_ENV_VAR]: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stderr.split('\n').find((l) => l.startsWith('backend: '));
  assert.ok(line, r.stderr);
  if (line.startsWith('backend: wasm')) {
    // Both native packages failed; the first's kernels must not stay registered for the second to warn about, one line each.
    assert.doesNotMatch(r.stderr, /is already registered/);
    // The detail ends with the native kernels' state: in use (with what) or why not.
    assert.match(
      line,
      /^backend: wasm \(simd, \d+ threads?; (native kernels: OpenBLAS [\d.]+, core \w+|wasm kernels only: .+)\); not available: tensorflow-gpu, tensorflow \(--backend NAME shows why\)$/,
    );
  } else {
    assert.match(line, /^backend: tensorflow(-gpu)? \(libtensorflow/);
  }
});

test('SELFDPO_NATIVE=0 keeps the wasm kernels and the backend line says so', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('./src/backend.ts').initBackend({ backend: 'wasm' })"], {
    cwd: resolve(__dirname, '..'),
    encoding: 'utf8',
    env: { ...process.env, SELFDPO_NATIVE: '0' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^backend: wasm \(simd, \d+ threads?; wasm kernels only: SELFDPO_NATIVE=0\)/m);
});
