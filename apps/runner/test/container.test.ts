import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const RUNNER = join(import.meta.dirname, '..')

// The Dockerfile's second stage is exactly `apps/runner/bundle` (built by `pnpm build`) and the
// compile cache written by starting it: copy the bundle alone into a temp folder, with no
// node_modules anywhere above it, and start it as the image would (no Docker engine on this machine).
describe('container bundle', () => {
  let out: string
  beforeAll(async () => {
    out = join(await mkdtemp(join(tmpdir(), 'tq-image-')), 'app')
    await cp(join(RUNNER, 'bundle'), join(out, 'bundle'), { recursive: true })
  })
  afterAll(() => rm(join(out, '..'), { recursive: true, force: true }))

  const start = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, [join(out, 'bundle', 'cli.mjs'), ...args], { env, cwd: out })

  it('starts alone: node bundle/cli.mjs --help', async () => {
    const { stdout } = await start(['--help'])
    expect(stdout).toMatch(/^tourniquet: contain compromised identities/)
  })

  it('loads the run command and its dependencies from the bundle: a configuration error, exit 2', async () => {
    const result = await start(['run']).catch((e: { code: number; stderr: string }) => e)
    expect(result).toMatchObject({ code: 2 })
    expect((result as { stderr: string }).stderr).toMatch(
      /configuration error, nothing done[\s\S]*AZURE_TENANT_ID/,
    )
  })

  it('imports nothing but Node built-ins and the optional mock tenant: no node_modules needed', async () => {
    const files = (await readdir(join(out, 'bundle'), { recursive: true })).filter((f) => f.endsWith('.mjs'))
    const bare = new Set<string>()
    for (const file of files) {
      const text = await readFile(join(out, 'bundle', file), 'utf8')
      // esbuild writes static imports at the start of a line; comment lines (` * import ...`) do not count.
      for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*["']([^"'./][^"']*)["']/gm))
        bare.add(m[1] ?? '')
      for (const m of text.matchAll(/^(?!\s*(?:\*|\/\/)).*\bimport\(\s*["']([^"'./][^"']*)["']\s*\)/gm))
        bare.add(m[1] ?? '')
    }
    expect([...bare].filter((s) => !s.startsWith('node:') && !isBuiltin(s)).sort()).toEqual([
      '@tourniquet/mock-graph',
    ])
  })

  it("requires node:http instead of importing it: an ESM import of it loads Node's own undici at every start", async () => {
    const files = (await readdir(join(out, 'bundle'), { recursive: true })).filter((f) => f.endsWith('.mjs'))
    const texts = await Promise.all(files.map((file) => readFile(join(out, 'bundle', file), 'utf8')))
    const imports = texts.flatMap((text) => [
      ...text.matchAll(/^import\b[^;]*?\bfrom\s*["'](?:node:)?http["']/gm),
    ])
    expect(imports.map((m) => m[0])).toEqual([])
    expect(texts.some((text) => text.includes('__require("node:http")'))).toBe(true)
  })

  it('without the mock, demo says what is missing instead of crashing', async () => {
    const result = await start(['demo']).catch((e: { code: number; stderr: string }) => e)
    expect(result).toMatchObject({ code: 2 })
    expect((result as { stderr: string }).stderr).toMatch(/needs @tourniquet\/mock-graph/)
  })

  it('starts from the compile cache the image writes at build time', async () => {
    const cache = join(out, '.compile-cache')
    await start(['--help'], { NODE_COMPILE_CACHE: cache })
    expect((await readdir(cache, { recursive: true })).length).toBeGreaterThan(0)
    const { stdout } = await start(['--help'], { NODE_COMPILE_CACHE: cache })
    expect(stdout).toMatch(/^tourniquet: contain compromised identities/)
  })

  it('the image build installs with no install scripts and builds on the base image Node, not the node package', async () => {
    const dockerfile = await readFile(join(RUNNER, 'Dockerfile'), 'utf8')
    const build = dockerfile.slice(0, dockerfile.lastIndexOf('FROM '))
    const installs = [...build.matchAll(/^RUN (pnpm install[^\\\n]*)/gm)].map((m) => m[1]?.trim())
    expect(installs).toEqual(['pnpm install --frozen-lockfile --ignore-scripts'])
    // The node package's shim points at a binary its (skipped) preinstall would have downloaded.
    expect(build).toMatch(/&& rm -f node_modules\/\.bin\/node \\\n && pnpm turbo run build/)
  })

  it('the Dockerfile copies that bundle alone, writes its compile cache, and runs it as a non-root user on Node 24', async () => {
    const dockerfile = await readFile(join(RUNNER, 'Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim@sha256:[0-9a-f]{64}$/m)
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m)
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '))
    expect([...runtime.matchAll(/^COPY .*$/gm)].map((m) => m[0])).toEqual([
      'COPY --from=build /src/apps/runner/bundle ./bundle',
    ])
    expect(runtime).toMatch(/^ENV NODE_COMPILE_CACHE=\/app\/\.compile-cache$/m)
    expect(runtime).toMatch(/^RUN node bundle\/cli\.mjs --help >\/dev\/null$/m)
    expect(runtime.indexOf('RUN node bundle')).toBeLessThan(runtime.indexOf('USER node'))
    expect(dockerfile).toMatch(/^USER node$/m)
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1]
    const argv = JSON.parse(cmd ?? '[]') as string[]
    expect(argv[0]).toBe('node')
    expect(argv.slice(-2)).toEqual(['bundle/cli.mjs', 'run'])
    // The garbage-collector flags of the CMD are ones this Node accepts: the bundle starts with them.
    const flags = argv.slice(1, -2)
    expect(flags).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=50'])
    const { stdout } = await run(process.execPath, [...flags, join(out, 'bundle', 'cli.mjs'), '--help'], {
      env: {},
      cwd: out,
    })
    expect(stdout).toMatch(/^tourniquet: contain compromised identities/)
  })

  it('supply chain: every stage from the digest-pinned base, pnpm checked against a pinned integrity, app files root-owned', async () => {
    const dockerfile = await readFile(join(RUNNER, 'Dockerfile'), 'utf8')
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])
    const pinnedArg = '$' + '{NODE_IMAGE}' // the Dockerfile's text, not a template
    expect(froms).toEqual([pinnedArg, pinnedArg])
    // The build refuses a NODE_IMAGE overridden with a tag: run the Dockerfile's own check.
    const check = /^RUN (case "\$\{NODE_IMAGE\}" in[\s\S]*?esac)$/m.exec(dockerfile)?.[1] ?? 'exit 9'
    const script = check.replaceAll('\\\n', '\n')
    const pinned = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? ''
    await expect(run('sh', ['-c', script], { env: { NODE_IMAGE: pinned } })).resolves.toBeDefined()
    await expect(run('sh', ['-c', script], { env: { NODE_IMAGE: 'node:24-slim' } })).rejects.toMatchObject({
      stderr: expect.stringMatching(/NODE_IMAGE must be pinned by digest/),
    })
    // pnpm: the version the repository's packageManager names, checked against a sha512 integrity.
    const root = JSON.parse(await readFile(join(RUNNER, '..', '..', 'package.json'), 'utf8')) as {
      packageManager: string
    }
    expect(`pnpm@${/^ARG PNPM_VERSION=(\S+)$/m.exec(dockerfile)?.[1]}`).toBe(root.packageManager)
    expect(dockerfile).toMatch(/^ARG PNPM_INTEGRITY=sha512-[A-Za-z0-9+/]{86}==$/m)
    expect(dockerfile).toMatch(
      /createHash\('sha512'\)[\s\S]*npm install --global [^\n]*pnpm-\$\{PNPM_VERSION\}\.tgz/,
    )
    expect(dockerfile).not.toMatch(/npm install --global pnpm@/)
    // The runtime stage copies without --chown: root owns the app, the node user only reads it.
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '))
    expect(runtime).toMatch(/^COPY --from=build \/src\/apps\/runner\/bundle \.\/bundle$/m)
    expect(runtime).not.toMatch(/--chown/)
  })
})
