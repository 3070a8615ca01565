import { describe, expect, it } from 'vitest'
import { CONSUMPTION_SIZES, parseSettings, SettingsError } from '../src/settings.js'

const REGISTRY_ID =
  '/subscriptions/0b1c2d3e-0000-4000-a000-000000000001/resourceGroups/images/providers/Microsoft.ContainerRegistry/registries/myregistry'
const base = {
  location: 'westeurope',
  image: 'myregistry.azurecr.io/tourniquet-runner:1.0.0',
  registryId: REGISTRY_ID,
}

function problems(raw: Record<string, unknown>): Array<{ key: string; message: string }> {
  try {
    parseSettings(raw)
  } catch (e) {
    if (e instanceof SettingsError) return e.problems
    throw e
  }
  throw new Error('expected a settings error')
}

describe('stack settings', () => {
  it('defaults: dry run, federated (no secret), every minute, global cloud', () => {
    expect(parseSettings(base)).toMatchObject({
      mode: 'plan',
      authMode: 'federated',
      schedule: '* * * * *',
      cloud: 'global',
      replicaTimeoutSeconds: 1800,
      retryLimit: 1,
      cpu: 0.5,
      memory: '1Gi',
    })
  })
  it('reads numbers given as strings (pulumi config set stores strings)', () => {
    expect(parseSettings({ ...base, secretLifetimeDays: '90', cpu: '1', memory: '2Gi' })).toMatchObject({
      secretLifetimeDays: 90,
      cpu: 1,
    })
  })
  it.each([
    ['schedule', { schedule: 'every 10 minutes' }, /five-field cron/],
    ['schedule', { schedule: '*/10 * * *' }, /five-field cron/],
    ['image', { image: 'tourniquet-runner' }, /image reference with a tag or digest/],
    ['image', { image: 'myregistry.azurecr.io/tourniquet-runner' }, /tag or digest/],
    ['location', { location: 'West Europe' }, /Azure region name/],
    ['cloud', { cloud: 'mars' }, /global, usgov, usgovdod, china/],
    ['authMode', { authMode: 'password' }, /secret .* or federated/],
    ['secretLifetimeDays', { secretLifetimeDays: '400' }, /at most 365/],
    ['secretRotation', { secretRotation: '2026-11-26' }, /rotation number \(1, 2, 3, \.\.\.\): add one/],
    ['secretRotation', { secretRotation: '0' }, /rotation number/],
    ['registryId', { registryId: '/subscriptions/x/registries/y' }, /registry's resource id/],
    ['ledgerRetentionDays', { ledgerRetentionDays: '0' }, /at least 1/],
    ['rbacPropagationSeconds', { rbacPropagationSeconds: '3600' }, /at most 900/],
    ['trigger', { trigger: 'event' }, /schedule .* or watch/],
    ['watchInterval', { trigger: 'watch', watchInterval: '15s' }, /ISO 8601 duration of at least PT1S/],
    ['watchInterval', { trigger: 'watch', watchInterval: 'PT0.5S' }, /at least PT1S/],
    ['watchShare', { trigger: 'watch', watchShare: '0' }, /greater than 0 and at most 1/],
    ['watchShare', { trigger: 'watch', watchShare: '1.5' }, /greater than 0 and at most 1/],
    ['watchShare', { trigger: 'watch', watchShare: 'a fifth' }, /expected a number/],
  ])('a bad %s is named with what is expected', (key, raw, message) => {
    const [p] = problems({ ...base, ...raw })
    expect(p?.key).toBe(key)
    expect(p?.message).toMatch(message)
  })
  it('the error message lists keys as tourniquet:<key>', () => {
    expect(() => parseSettings({ location: 'westeurope' })).toThrow(/tourniquet:image: /)
  })
  it('rotation is a number (the generation of the client secret), 1 by default', () => {
    expect(parseSettings(base).secretRotation).toBe(1)
    expect(parseSettings({ ...base, secretRotation: '3' }).secretRotation).toBe(3)
  })
})

// azure-docs articles/container-apps/containers.md#allocations: in the Consumption plan the vCPUs
// and the memory must be one of 16 fixed pairs, 0.25/0.5Gi to 4.0/8.0Gi (memory = 2 x vCPU).
describe('job size: a Consumption vCPU/memory pair', () => {
  it('lists the 16 documented pairs', () => {
    expect(CONSUMPTION_SIZES).toHaveLength(16)
    expect(CONSUMPTION_SIZES[0]).toEqual([0.25, 0.5])
    expect(CONSUMPTION_SIZES.at(-1)).toEqual([4, 8])
  })
  it.each([
    ['0.25', '0.5Gi'],
    ['1', '2Gi'],
    ['1.0', '2.0Gi'],
    ['2.5', '5Gi'],
    ['4', '8.0Gi'],
  ])('accepts cpu %s with memory %s', (cpu, memory) => {
    expect(parseSettings({ ...base, cpu, memory })).toMatchObject({ cpu: Number(cpu), memory })
  })
  it.each([
    ['0.5', '2Gi'],
    ['1', '1Gi'],
    ['3', '4Gi'],
    ['4.25', '8.5Gi'],
    ['0.3', '0.6Gi'],
  ])('refuses cpu %s with memory %s, listing the valid pairs', (cpu, memory) => {
    const [p] = problems({ ...base, cpu, memory })
    expect(p?.key).toBe('cpu')
    expect(p?.message).toContain(
      `cpu ${Number(cpu)} with memory ${memory} is not a Container Apps Consumption size`,
    )
    expect(p?.message).toContain('0.25/0.5Gi, 0.5/1Gi, 0.75/1.5Gi, 1/2Gi')
    expect(p?.message).toContain('4/8Gi')
  })
})

// azure-docs articles/container-apps/managed-identity-image-pull.md: an image in Azure Container
// Registry is pulled with the job's identity (configuration.registries + AcrPull on the registry);
// any other private registry needs a username and a password secret.
describe('private registries', () => {
  const acrImage = { location: 'westeurope', image: 'myregistry.azurecr.io/tourniquet-runner:1.0.0' }
  it('an Azure Container Registry image without registryId (or credentials) is refused, naming the key', () => {
    const [p] = problems(acrImage)
    expect(p?.key).toBe('registryId')
    expect(p?.message).toMatch(
      /Azure Container Registry myregistry\.azurecr\.io: expected the registry's resource id/,
    )
  })
  it('the registry id must name the registry the image comes from', () => {
    const [p] = problems({ ...acrImage, registryId: REGISTRY_ID.replace('myregistry', 'otherregistry') })
    expect(p?.key).toBe('registryId')
    expect(p?.message).toMatch(/pulled from myregistry\.azurecr\.io, not from registry 'otherregistry'/)
  })
  it('a username needs the password as a secret, and the password needs a username', () => {
    const other = { location: 'westeurope', image: 'ghcr.io/contoso/tourniquet-runner:1.0.0' }
    expect(problems({ ...other, registryUsername: 'bot' })[0]).toMatchObject({
      key: 'registryPassword',
      message: expect.stringMatching(/pulumi config set --secret tourniquet:registryPassword/),
    })
    expect(problems({ ...other, registryPasswordSet: true })[0]?.key).toBe('registryUsername')
    expect(
      parseSettings({ ...other, registryUsername: 'bot', registryPasswordSet: true }).registryUsername,
    ).toBe('bot')
  })
  it('a public image needs neither', () => {
    expect(() =>
      parseSettings({ location: 'westeurope', image: 'ghcr.io/contoso/runner:1.0.0' }),
    ).not.toThrow()
  })
})

// Decision 014: the watcher's settings mean nothing to the scheduled job; they are refused rather
// than silently ignored.
describe('trigger and the watch settings', () => {
  it('the schedule trigger by default; watch with an interval and a share', () => {
    expect(parseSettings(base).trigger).toBe('schedule')
    expect(
      parseSettings({ ...base, trigger: 'watch', watchInterval: 'PT15S', watchShare: '0.2' }),
    ).toMatchObject({ trigger: 'watch', watchInterval: 'PT15S', watchShare: 0.2 })
    expect(parseSettings({ ...base, trigger: 'watch', watchShare: '1' }).watchShare).toBe(1)
  })
  it.each([
    ['watchInterval', 'PT15S'],
    ['watchShare', '0.2'],
  ])('%s without trigger watch is refused, naming the key and the way out', (key, value) => {
    for (const trigger of [undefined, 'schedule']) {
      const [p] = problems({ ...base, ...(trigger ? { trigger } : {}), [key]: value })
      expect(p?.key).toBe(key)
      expect(p?.message).toMatch(/only used with tourniquet:trigger watch \(the trigger is schedule\)/)
      expect(p?.message).toContain(`pulumi config rm tourniquet:${key}`)
    }
    expect(() => parseSettings({ ...base, [key]: value })).toThrow(new RegExp(`tourniquet:${key}: only used`))
  })
})
