// The container's runner: the tsc output of the CLI and everything it imports, bundled into a few
// ESM files under bundle/ (decision 016). Loading ~700 modules from dist/ and node_modules cost
// ~330 ms before the first request; one entry file plus a chunk per lazily imported command does not.
// The mock tenant stays external: only `demo` imports it, and the image leaves it out.
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { build } from 'esbuild'

const RUNNER = join(import.meta.dirname, '..')
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
