// Builds the optional native addon (native/*.c -> native/build/selfdpoNative.node): OpenBLAS
// convolutions and matmuls, a fused group norm and the optimizer's loops for the wasm
// backend. Runs on `npm ci` (postinstall) and `npm run build:native`. Without a C compiler, Node's headers or Debian's
// libopenblas-dev it says what is missing and exits 0: the kit then runs on wasm alone.
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
  const msg = `native kernels not built (${why}); the kit runs on the wasm backend's own kernels. ` + 'To build them: apt-get install gcc libopenblas-dev, then npm run build:native';
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
// Debian puts OpenBLAS's cblas.h under its multiarch openblas-pthread folder.
const blasInclude = ['/usr/include/x86_64-linux-gnu/openblas-pthread', '/usr/include/aarch64-linux-gnu/openblas-pthread', '/usr/include/openblas', '/usr/include'].find(
  (d) => fs.existsSync(path.join(d, 'cblas.h')) && fs.readFileSync(path.join(d, 'cblas.h'), 'utf8').includes('openblas_set_num_threads'),
);
if (blasInclude === undefined) giveUp("OpenBLAS's cblas.h not found (Debian: libopenblas-dev)");

const compiler = process.env.CC ?? 'cc';
const tmp = `${out}.tmp-${process.pid}`;
fs.mkdirSync(path.dirname(out), { recursive: true });
try {
  execFileSync(
    compiler,
    ['-O3', '-fno-math-errno', '-fno-trapping-math', '-fPIC', '-shared', '-Wall', '-Wextra', '-Werror', `-I${nodeInclude}`, `-I${blasInclude}`, ...sources, '-lopenblas', '-lm', '-o', tmp],
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
