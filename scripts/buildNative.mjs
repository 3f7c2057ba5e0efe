// Builds the optional native addon (native/*.c -> native/build/selfdpoNative.node): OpenBLAS
// convolutions and matmuls, a fused group norm and the optimizer's loops for the wasm
// backend. Runs on `npm ci` (postinstall) and `npm run build:native`. Without a C compiler, Node's headers or OpenBLAS
// it says what is missing and exits 0: the kit then runs on wasm alone.
// `--require` (CI) makes a failed build an error instead.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const sources = fs
  .readdirSync(path.join(root, 'native'))
  .filter((f) => f.endsWith('.c'))
  .sort()
  .map((f) => path.join(root, 'native', f));
const out = path.join(root, 'native', 'build', 'selfdpoNative.node');
const required = process.argv.includes('--require');

function giveUp(why) {
  const msg =
    `native kernels not built (${why}); the kit runs on the wasm backend's own kernels. ` +
    'To build them: sh scripts/setup.sh (Debian/Ubuntu: gcc and libopenblas-dev; conda: environment.yml), then npm run build:native';
  if (required) {
    console.error(`error: ${msg}`);
    process.exit(1);
  }
  console.warn(`note: ${msg}`);
  process.exit(0);
}

if (process.env.SELFDPO_NATIVE === '0') giveUp('SELFDPO_NATIVE=0');
// Node's headers: beside this node (official tarballs, nvm) or Debian's /usr/include/node.
const includeDirs = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'];
const nodeInclude = includeDirs.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
if (nodeInclude === undefined) giveUp(`node_api.h not found in ${includeDirs.join(' or ')}`);
// OpenBLAS: where pkg-config says, then a conda environment's, Homebrew's, and Debian's
// (cblas.h under its multiarch openblas-pthread folder). A cblas.h must be OpenBLAS's (it
// declares openblas_set_num_threads), not another BLAS's.
function pkgConfig(flag) {
  try {
    return execFileSync('pkg-config', [flag, 'openblas'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split(/\s+/)
      .filter((f) => f.length > 2)
      .map((f) => f.slice(2));
  } catch {
    return [];
  }
}
const prefixes = [process.env.CONDA_PREFIX, '/opt/homebrew/opt/openblas', '/usr/local/opt/openblas'].filter((p) => p !== undefined && p !== '');
const candidates = [
  ...pkgConfig('--cflags-only-I').map((include) => ({ include, libs: pkgConfig('--libs-only-L') })),
  ...prefixes.map((p) => ({ include: path.join(p, 'include'), libs: [path.join(p, 'lib')] })),
  ...['/usr/include/x86_64-linux-gnu/openblas-pthread', '/usr/include/aarch64-linux-gnu/openblas-pthread', '/usr/include/openblas', '/usr/include'].map((include) => ({ include, libs: [] })),
];
const blas = candidates.find(({ include }) => fs.existsSync(path.join(include, 'cblas.h')) && fs.readFileSync(path.join(include, 'cblas.h'), 'utf8').includes('openblas_set_num_threads'));
if (blas === undefined) giveUp("OpenBLAS's cblas.h not found (looked through pkg-config, $CONDA_PREFIX, Homebrew and Debian's libopenblas-dev)");
// A library outside the linker's default folders is also found at load time (rpath).
const libFlags = blas.libs.flatMap((dir) => [`-L${dir}`, `-Wl,-rpath,${dir}`]);
// macOS resolves Node's symbols when the addon loads.
const platformFlags = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : [];

const compiler = process.env.CC ?? 'cc';
const tmp = `${out}.tmp-${process.pid}`;
fs.mkdirSync(path.dirname(out), { recursive: true });
try {
  execFileSync(
    compiler,
    [
      '-O3',
      '-fno-math-errno',
      '-fno-trapping-math',
      '-fPIC',
      '-shared',
      '-Wall',
      '-Wextra',
      '-Werror',
      `-I${nodeInclude}`,
      `-I${blas.include}`,
      ...sources,
      ...libFlags,
      '-lopenblas',
      '-lm',
      ...platformFlags,
      '-o',
      tmp,
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
} catch (err) {
  fs.rmSync(tmp, { force: true });
  giveUp(`${compiler} failed: ${err.message.split('\n')[0]}`);
}
fs.renameSync(tmp, out);
console.log(`built ${path.relative(process.cwd(), out)}`);
