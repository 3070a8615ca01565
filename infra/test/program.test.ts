import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALLOWED_GRAPH_PERMISSIONS } from '../policy-pack/rules/graphRolesAllowList.js'
import { REGISTRY_ID } from './deploy.js'

const run = promisify(execFile)
const INFRA = join(import.meta.dirname, '..')

// The compiled entry point, as `pulumi up` runs it (plain Node ESM, not vitest's resolver), with
// the stack config in place and Pulumi's mocks instead of an engine.
describe('the compiled program (dist/src/index.js) under plain Node', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tq-infra-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  const script = (config: Record<string, string>, roles: readonly string[]) => `
    import * as pulumi from '@pulumi/pulumi'
    const resources = []
    await pulumi.runtime.setMocks({
      newResource: (a) => { resources.push(a.type); return { id: a.name + '-id', state: { ...a.inputs, appRoleIds: ${JSON.stringify(Object.fromEntries(roles.map((p) => [p, `role-${p}`])))}, objectId: 'obj', clientId: 'cid', principalId: 'pid', name: a.inputs.vaultName ?? a.inputs.accountName ?? a.inputs.jobName ?? a.inputs.containerAppName ?? a.name, properties: { ...(a.inputs.properties ?? {}), vaultUri: 'https://kv.vault.azure.net/' } } } },
      call: (a) => a.token.includes('PublishedAppIds') ? { result: { MicrosoftGraph: '00000003-0000-0000-c000-000000000000' } } : { tenantId: 't', subscriptionId: 's', primarySharedKey: 'k' },
    }, 'tourniquet', 'dev', false)
    pulumi.runtime.setAllConfig(${JSON.stringify(config)})
    try {
      const program = await import(${JSON.stringify(pathToFileURL(join(INFRA, 'dist', 'src', 'index.js')).href)})
      const perms = await new Promise((r) => pulumi.output(program.grantedPermissions).apply(r))
      await new Promise((r) => setTimeout(r, 500))
      const trigger = await new Promise((r) => pulumi.output(program.trigger).apply(r))
      console.log(JSON.stringify({ ok: true, permissions: perms, resources: resources.length, job: resources.includes('azure-native:app:Job'), app: resources.includes('azure-native:app:ContainerApp'), trigger }))
    } catch (e) {
      console.log(JSON.stringify({ ok: false, message: e.message, runError: pulumi.RunError.isInstance(e) }))
    }
  `

  async function runProgram(
    config: Record<string, string>,
    roles: readonly string[] = ALLOWED_GRAPH_PERMISSIONS,
  ): Promise<{
    ok: boolean
    message?: string
    runError?: boolean
    permissions?: string[]
    resources?: number
    job?: boolean
    app?: boolean
    trigger?: string
  }> {
    const file = join(INFRA, `.program-smoke-${Math.random().toString(36).slice(2)}.mjs`)
    await writeFile(file, script(config, roles))
    try {
      const { stdout } = await run(process.execPath, [file], {
        cwd: INFRA,
        env: { PATH: process.env.PATH ?? '' },
      })
      return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')
    } finally {
      await rm(file, { force: true })
    }
  }

  it('loads with a valid stack config and registers the whole stack', async () => {
    const result = await runProgram({
      'tourniquet:location': 'westeurope',
      'tourniquet:image': 'myregistry.azurecr.io/tourniquet-runner:1.0.0',
      'tourniquet:registryId': REGISTRY_ID,
      'tourniquet:policyPath': '../examples/policy.yaml',
    })
    expect(result).toMatchObject({ ok: true, job: true, app: false, trigger: 'schedule' })
    expect(result.permissions).toContain('IdentityRiskyUser.ReadWrite.All')
    expect(result.resources).toBeGreaterThan(15)
  })

  it('tourniquet:trigger watch registers the watcher app instead of the job and exports the trigger', async () => {
    const result = await runProgram({
      'tourniquet:location': 'westeurope',
      'tourniquet:image': 'myregistry.azurecr.io/tourniquet-runner:1.0.0',
      'tourniquet:registryId': REGISTRY_ID,
      'tourniquet:trigger': 'watch',
      'tourniquet:watchInterval': 'PT15S',
    })
    expect(result).toMatchObject({ ok: true, job: false, app: true, trigger: 'watch' })
  })

  it('a watch setting without tourniquet:trigger watch fails the preview, naming the key', async () => {
    const result = await runProgram({
      'tourniquet:location': 'westeurope',
      'tourniquet:image': 'myregistry.azurecr.io/tourniquet-runner:1.0.0',
      'tourniquet:registryId': REGISTRY_ID,
      'tourniquet:watchShare': '0.5',
    })
    expect(result).toMatchObject({ ok: false, runError: true })
    expect(result.message).toMatch(/tourniquet:watchShare: only used with tourniquet:trigger watch/)
  })

  it('a Graph permission the tenant does not know fails with its name (role ids are resolved by name)', async () => {
    const config = {
      'tourniquet:location': 'westeurope',
      'tourniquet:image': 'myregistry.azurecr.io/tourniquet-runner:1.0.0',
      'tourniquet:registryId': REGISTRY_ID,
    }
    const withoutOne = ALLOWED_GRAPH_PERMISSIONS.filter((p) => p !== 'User.RevokeSessions.All')
    const error = await runProgram(config, withoutOne).catch((e: { stderr?: string }) => ({
      ok: false,
      message: e.stderr ?? '',
    }))
    expect(error.ok).toBe(false)
    expect(error.message).toMatch(
      /Microsoft Graph has no application permission named 'User\.RevokeSessions\.All'/,
    )
  })

  it('a bad config value fails with the key and what is expected', async () => {
    const result = await runProgram({
      'tourniquet:location': 'westeurope',
      'tourniquet:image': 'myregistry.azurecr.io/tourniquet-runner:1.0.0',
      'tourniquet:registryId': REGISTRY_ID,
      'tourniquet:schedule': 'hourly',
    })
    expect(result.ok).toBe(false)
    expect(result.message).toMatch(/tourniquet:schedule: expected a five-field cron expression/)
    // A RunError: Pulumi prints the message alone, no stack trace.
    expect(result.runError).toBe(true)
  })

  it('a registry username without its secret password fails, naming tourniquet:registryPassword', async () => {
    const result = await runProgram({
      'tourniquet:location': 'westeurope',
      'tourniquet:image': 'ghcr.io/contoso/tourniquet-runner:1.0.0',
      'tourniquet:registryUsername': 'contoso-bot',
    })
    expect(result).toMatchObject({ ok: false, runError: true })
    expect(result.message).toMatch(
      /tourniquet:registryPassword: expected the password for ghcr\.io as a secret/,
    )
  })

  it('a cloud that lacks an API the policy needs fails the preview, naming tourniquet:cloud', async () => {
    const result = await runProgram({
      'tourniquet:location': 'chinanorth3',
      'tourniquet:cloud': 'china',
      'tourniquet:image': 'mcr.microsoft.com/contoso/tourniquet-runner:1.0.0',
    })
    expect(result).toMatchObject({ ok: false, runError: true })
    expect(result.message).toMatch(
      /tourniquet:cloud: Microsoft Graph in the china cloud does not offer Entra ID Protection/,
    )
  })

  it('a policy file that does not validate fails with file, line and path', async () => {
    await writeFile(
      join(dir, 'bad.yaml'),
      'version: 1\nlookback: PT24H\nrules:\n  - name: x\n    when: {}\n    then: [nuke]\n',
    )
    const result = await runProgram({
      'tourniquet:location': 'westeurope',
      'tourniquet:image': 'myregistry.azurecr.io/tourniquet-runner:1.0.0',
      'tourniquet:registryId': REGISTRY_ID,
      'tourniquet:policyPath': join(dir, 'bad.yaml'),
    })
    expect(result.ok).toBe(false)
    expect(result.message).toMatch(/bad\.yaml:6:\d+ rules\[0\]\.then\[0\]: unknown action 'nuke'/)
    expect(result.runError).toBe(true)
  })
})
