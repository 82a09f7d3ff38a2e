// Bundles the console for castellan to serve: esbuild compiles Preact's JSX, bundles the
// script and its CSS into content-hashed files under assets/, and index.html is written with
// the hashed names — no inline script, nothing fetched from elsewhere at run time.
//   node build.mjs --outdir DIR      (default: dist)
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf('--outdir');
const outdir = resolve(at >= 0 ? args[at + 1] : join(here, 'dist'));

rmSync(outdir, { recursive: true, force: true });
mkdirSync(join(outdir, 'assets'), { recursive: true });
const result = await build({
  absWorkingDir: here,
  entryPoints: ['src/main.jsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(outdir, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

let script;
let style;
for (const [path, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint) script = basename(path);
  if (path.endsWith('.css')) style = basename(path);
}
if (!script || !style) throw new Error(`build: no script or stylesheet among ${Object.keys(result.metafile.outputs).join(', ')}`);
const page = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('<!-- stylesheet -->', `<link rel="stylesheet" href="/assets/${style}" />`)
  .replace('<!-- script -->', `<script type="module" src="/assets/${script}"></script>`);
if (page.includes('<!--')) throw new Error('build: index.html has a placeholder left');
writeFileSync(join(outdir, 'index.html'), page);
const size = (f) => readFileSync(join(outdir, 'assets', f)).length;
console.log(`console: ${outdir}: assets/${script} (${size(script)} B), assets/${style} (${size(style)} B)`);
