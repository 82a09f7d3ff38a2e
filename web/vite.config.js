// Preact's JSX through esbuild's automatic runtime: no Babel, no plugin.
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2022',
    assetsInlineLimit: 0, // every asset a file: the CSP allows no data: scripts or styles
    modulePreload: { polyfill: false }, // no inline helper; modern browsers preload natively
    sourcemap: false,
  },
});
