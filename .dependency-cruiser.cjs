/**
 * The layering of src/ (docs/DESIGN.md, "Layers"): each folder (or top-level file) may import
 * only those listed before it, so no folder imports one above it and folders cannot form a cycle.
 */
const LAYERS = [
  'util',
  'config',
  'kernels',
  'backend',
  'text',
  'data',
  'diffusion',
  'model',
  'objective',
  'optim',
  'parallel',
  'runs',
  'methods',
  'train',
  'eval',
  'report',
  'pick',
  'repro',
  'queue',
  'commands',
  'cli',
  'index',
];

// A layer is a folder src/NAME/ or a file src/NAME.ts.
const layerPath = (name) => `^src/${name}(/|\\.ts$)`;

module.exports = {
  forbidden: LAYERS.slice(0, -1)
    .map((name, i) => ({
      name: `layer-${name}`,
      comment: `src/${name} sits below ${LAYERS.slice(i + 1).join(', ')}: it may not import them (docs/DESIGN.md, "Layers")`,
      severity: 'error',
      from: { path: layerPath(name) },
      to: { path: LAYERS.slice(i + 1).map(layerPath) },
    }))
    .concat([
      {
        name: 'not-to-unresolvable',
        severity: 'error',
        from: {},
        to: { couldNotResolve: true },
      },
    ]),
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
