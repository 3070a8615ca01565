import type * as pulumi from '@pulumi/pulumi'
import { SETTING_NAMES } from '@tourniquet/runner'
import { describe, expect, it } from 'vitest'
import { runnerContainer } from '../src/components/runnerContainer.js'
import { parseSettings } from '../src/settings.js'

const base = {
  location: 'westeurope',
  image: 'myregistry.azurecr.io/tourniquet-runner:1.0.0',
  registryId:
    '/subscriptions/0b1c2d3e-0000-4000-a000-000000000001/resourceGroups/images/providers/Microsoft.ContainerRegistry/registries/myregistry',
}
const resource = {} as pulumi.Resource
const ref = { resource, uri: 'https://kv.vault.azure.net/secrets/x' }

/** The variables one deployment's container sets, every optional one included. */
function variables(raw: Record<string, unknown>, command: 'run' | 'watch'): string[] {
  const c = runnerContainer(
    {
      settings: parseSettings(raw),
      identity: { id: 'identity-id', clientId: 'identity-client-id' } as never,
      tenantId: 'tenant',
      appClientId: 'app',
      clientSecret: ref,
      registry: undefined,
      dependsOn: [],
      ledgerUrl: 'https://a.blob.core.windows.net/ledger/ledger.jsonl',
      decisionsUrl: 'https://a.blob.core.windows.net/decisions/decisions.jsonl',
      stateUrl: 'https://a.blob.core.windows.net/state/evidence.json',
      notify: { urls: ref, secret: ref },
      policyText: 'rules: []',
    },
    command,
  )
  return c.containers.flatMap((x) => x.env.map((e) => e.name))
}

describe("the runner container's environment", () => {
  it("names only variables that are rows of the runner's settings table, for both triggers and auth modes", () => {
    const watch = { trigger: 'watch', watchInterval: 'PT30S', watchShare: 0.5 }
    const names = [
      ...variables({ ...base, authMode: 'secret', ...watch }, 'watch'),
      ...variables({ ...base, authMode: 'secret' }, 'run'),
      ...variables({ ...base, authMode: 'federated' }, 'run'),
    ]
    expect(names).toContain('TOURNIQUET_WATCH_SHARE')
    expect(names).toContain('TOURNIQUET_SECRET_ROTATION')
    expect(names.filter((n) => !(SETTING_NAMES as readonly string[]).includes(n))).toEqual([])
  })
})
