// The container's runner: the tsc output of the CLI and everything it imports, bundled into a few
// ESM files under bundle/ (decision 016). Loading ~700 modules from dist/ and node_modules cost
// ~330 ms before the first request; one entry file plus a chunk per lazily imported command does not.
// The mock tenant stays external: only `demo` imports it, and the image leaves it out.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { build } from 'esbuild'

const RUNNER = join(import.meta.dirname, '..')

/**
 * `node:http` through require, not an ESM import (issue #24). Node makes an ESM facade of a
 * built-in by reading every export, and reading `http.WebSocket` (a lazy getter) loads and compiles
 * Node's own undici: 60-90 ms of every start, for a class nothing here uses. The bundled Azure SDK's
 * `import http from "node:http"` is the only ESM import of it; its default import is the module.
 */
const httpThroughRequire = {
  name: 'http-through-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.kind === 'import-statement' ? { path: 'node:http', namespace: 'http-through-require' } : undefined,
    )
    b.onLoad({ filter: /.*/, namespace: 'http-through-require' }, () => ({
      contents: 'module.exports = require("node:http")',
      loader: 'js',
    }))
  },
}
const OUT = join(RUNNER, 'bundle')

await rm(OUT, { recursive: true, force: true })
const result = await build({
  absWorkingDir: RUNNER,
  entryPoints: { cli: 'dist/cli.js' },
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['@tourniquet/mock-graph'],
  plugins: [httpThroughRequire],
  // Bundled CommonJS dependencies call require() for Node's built-ins; ESM has none of its own.
  banner: {
    js: "import { createRequire as __tqCreateRequire } from 'node:module'; const require = __tqCreateRequire(import.meta.url);",
  },
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
})
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.mjs'))
const bytes = outputs.reduce((sum, [, o]) => sum + o.bytes, 0)
process.stdout.write(`bundle: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in ${OUT}\n`)
