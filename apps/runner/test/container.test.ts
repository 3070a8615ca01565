import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const RUNNER = join(import.meta.dirname, '..')

// The Dockerfile's second stage is exactly `pnpm deploy --prod --no-optional`: build that bundle
// here and start it, as the image would (no Docker engine on this machine).
describe('container bundle', () => {
  let out: string
  beforeAll(async () => {
    out = join(await mkdtemp(join(tmpdir(), 'tq-deploy-')), 'app')
    await run('pnpm', ['--filter=@tourniquet/runner', 'deploy', '--prod', '--no-optional', out], {
      cwd: RUNNER,
      env: { ...process.env, CI: 'true' },
    })
  }, 120_000)
  afterAll(() => rm(join(out, '..'), { recursive: true, force: true }))

  it('starts: node dist/cli.js --help', async () => {
    const { stdout } = await run(process.execPath, [join(out, 'dist', 'cli.js'), '--help'], {
      env: {},
      cwd: out,
    })
    expect(stdout).toMatch(/^tourniquet: contain compromised identities/)
  })

  it('holds production dependencies only: no mock tenant, no test tools', async () => {
    const pkgs = await run('ls', [join(out, 'node_modules'), join(out, 'node_modules', '@tourniquet')])
    expect(pkgs.stdout).toMatch(/core/)
    expect(pkgs.stdout).toMatch(/policy/)
    expect(pkgs.stdout).not.toMatch(/mock-graph|vitest|typescript|azurite/)
  })

  it('without the mock, demo says what is missing instead of crashing', async () => {
    const result = await run(process.execPath, [join(out, 'dist', 'cli.js'), 'demo'], {
      env: {},
      cwd: out,
    }).catch((e: { code: number; stderr: string }) => e)
    expect(result).toMatchObject({ code: 2 })
    expect((result as { stderr: string }).stderr).toMatch(/needs @tourniquet\/mock-graph/)
  })

  it('the Dockerfile copies that bundle and runs it as a non-root user on Node 24', async () => {
    const dockerfile = await readFile(join(RUNNER, 'Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim@sha256:[0-9a-f]{64}$/m)
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m)
    expect(dockerfile).toMatch(/deploy --prod --no-optional \/out/)
    expect(dockerfile).toMatch(/^USER node$/m)
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1]
    const argv = JSON.parse(cmd ?? '[]') as string[]
    expect(argv[0]).toBe('node')
    expect(argv.slice(-2)).toEqual(['dist/cli.js', 'run'])
    // The garbage-collector flags of the CMD are ones this Node accepts: the bundle starts with them.
    const flags = argv.slice(1, -2)
    expect(flags).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=50'])
    const { stdout } = await run(process.execPath, [...flags, join(out, 'dist', 'cli.js'), '--help'], {
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
    expect(runtime).toMatch(/^COPY --from=build \/out\/dist \.\/dist$/m)
    expect(runtime).not.toMatch(/--chown/)
  })
})
