/**
 * The layering of src/ (docs/architecture.md), checked by `npm run depcruise` in CI.
 * An import only points down the layers, or sideways within one; never in a circle; and a module never reaches
 * into another module's repository or entity (it goes through that module's exported service).
 */

/** Top to bottom. A folder is `src/<name>/`; the entry layer also holds the files directly under src/. */
const LAYERS = [
  { name: 'entry points', paths: ['^src/[^/]+\\.ts$', '^src/cli/'] },
  {
    name: 'protocol and admin features',
    folders: [
      'authorization',
      'tokens',
      'oidc',
      'audit',
      'audit-console',
      'health',
      'home',
      'housekeeping',
      'openapi',
      // issue 14's other half (metrics, extension points): features too
      'metrics',
      'extensions',
    ],
  },
  { name: 'registries', folders: ['clients', 'users'] },
  { name: 'admin API authentication', folders: ['api-auth'] },
  { name: 'keys, DPoP', folders: ['keys', 'dpop'] },
  { name: 'grants', folders: ['grants'] },
  { name: 'platform', folders: ['http', 'events', 'operations', 'rate-limit', 'database', 'config'] },
  { name: 'common', folders: ['common'] },
];
const pathsOf = (layer) => layer.paths ?? layer.folders.map((f) => `^src/${f}/`);

const layerRules = LAYERS.slice(1).map((layer, i) => ({
  name: `layer-${layer.name.replace(/[^a-z]+/gi, '-').toLowerCase()}`,
  comment: `${layer.name} must not import from a layer above it (${LAYERS.slice(0, i + 1)
    .map((l) => l.name)
    .join(', ')})`,
  severity: 'error',
  from: { path: pathsOf(layer) },
  to: { path: LAYERS.slice(0, i + 1).flatMap(pathsOf) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'every-folder-in-a-layer',
      comment: 'a new folder under src/ must be given its place in LAYERS (.dependency-cruiser.cjs)',
      severity: 'error',
      from: { path: '^src/' },
      to: {
        path: '^src/[^/]+/',
        pathNot: LAYERS.flatMap(pathsOf),
      },
    },
    {
      name: 'no-circular',
      comment: 'no import cycle, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-foreign-repository',
      comment: "a module never imports another module's repository: it calls that module's exported service",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/.+\\.repository\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'no-foreign-entity',
      comment: "a module never imports another module's TypeORM entity (src/entities.ts, for the migration CLI, may)",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/.+\\.entity\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'libs-stand-alone',
      comment: 'the client libraries (libs/) are published on their own: they never import the server (src/)',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^(src|test|examples)/' },
    },
    {
      name: 'server-not-on-examples-or-tests',
      comment: 'the server never imports tests or examples',
      severity: 'error',
      from: { path: '^(src|libs)/' },
      to: { path: '^(test|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
