// Builds the production node: src/main.ts (and src/migrate-main.ts, `pnpm migrate`) and everything it imports — our workspace packages (@chat/db,
// @chat/protocol) and the npm packages in devDependencies — into one CommonJS file, dist/main.js, run with
// plain `node`. Only this package's `dependencies` stay outside the bundle and are loaded from node_modules at
// run time: a native addon (@node-rs/argon2) and PGlite, which reads its WASM and data files beside its own
// module (and is loaded only in embedded mode). So a `--prod` install of this package is exactly what the
// bundle needs (the Docker image is built that way), and the build fails if it would need anything else.
//
// Why one bundle with the dependencies in it: a node start used to spend most of its CPU resolving, reading
// and compiling ~1,000 modules one by one (kysely alone is ~200 ES modules); one file is read and compiled
// at once (docs/performance.md, "Start-up"). Tests and `tsc --noEmit` keep using the sources.
//
// dist/ sits at the same depth as src/, so the paths the sources resolve from `__dirname`
// (apps/web/dist in config.ts, db/migrations in packages/db/src/migrate.ts) resolve the same from the
// bundle; the build checks that they still do.
//
//   node scripts/build.mjs             build
//   node scripts/build.mjs --if-stale  build only if a file the last build read (or this script, or
//                                      package.json) is newer than dist/main.js
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const SERVER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = path.join(SERVER_DIR, 'dist');
const OUT_FILE = path.join(OUT_DIR, 'main.js');
// The inputs of the last build (esbuild's metafile, paths relative to SERVER_DIR), for --if-stale.
const META_FILE = path.join(OUT_DIR, 'meta.json');
const PACKAGE_JSON = path.join(SERVER_DIR, 'package.json');
const SELF = fileURLToPath(import.meta.url);

/** `@scope/name` or `name` of a bare import (`kysely/migration` → `kysely`). */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isStale() {
  if (!existsSync(OUT_FILE) || !existsSync(META_FILE)) return true;
  const builtAt = statSync(OUT_FILE).mtimeMs;
  const { inputs } = JSON.parse(readFileSync(META_FILE, 'utf8'));
  const files = [SELF, PACKAGE_JSON, ...inputs.map((input) => path.resolve(SERVER_DIR, input))];
  return files.some((file) => !existsSync(file) || statSync(file).mtimeMs > builtAt);
}

/** Written beside, then renamed over: a node starting meanwhile (a parallel test) never reads half a file. */
function writeAtomically(file, contents) {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, contents);
  renameSync(temp, file);
}

async function main() {
  if (process.argv.includes('--if-stale') && !isStale()) return;
  const started = performance.now();
  const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8'));
  const external = new Set(Object.keys(pkg.dependencies ?? {}));
  const result = await build({
    absWorkingDir: SERVER_DIR,
    // The node, `pnpm migrate` (dist/migrate.js) for migrating ahead of a rollout, and `pnpm admin`
    // (dist/admin.js), the operators' command line.
    entryPoints: { main: 'src/main.ts', migrate: 'src/migrate-main.ts', admin: 'src/admin-main.ts' },
    outdir: OUT_DIR,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20.19',
    // Without comments and indentation the file is a third smaller and pure ASCII (licence comments go to
    // dist/main.js.LEGAL.txt), which V8 reads and parses in half the time; names are kept, so stacks stay
    // readable, and `node --enable-source-maps dist/main.js` maps them to src/ lines.
    minifyWhitespace: true,
    legalComments: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [
      {
        name: 'runtime-dependencies',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, ({ path: specifier }) =>
            external.has(packageName(specifier)) ? { path: specifier, external: true } : undefined,
          );
        },
      },
    ],
  });

  for (const [dir, why] of [
    ['../../web/dist', 'config.ts finds apps/web/dist'],
    ['../../../db/migrations', 'packages/db/src/migrate.ts finds db/migrations'],
  ]) {
    if (!existsSync(path.resolve(OUT_DIR, dir, '..'))) throw new Error(`dist/ moved: ${why} at ${dir} from its __dirname`);
  }

  await mkdir(OUT_DIR, { recursive: true });
  for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
  writeAtomically(META_FILE, JSON.stringify({ inputs: Object.keys(result.metafile.inputs) }));
  const bytes = result.outputFiles.find((file) => file.path === OUT_FILE).contents.length;
  const inputs = Object.keys(result.metafile.inputs).length;
  console.log(`built ${path.relative(process.cwd(), OUT_FILE) || OUT_FILE}: ${inputs} modules, ${(bytes / 1e6).toFixed(1)} MB, ${Math.round(performance.now() - started)} ms`);
}

await main();
