/**
 * The Graph client a configuration asks for: the credential (reading a certificate file when one is
 * configured) and the client's deadline and budgets.
 */
import { readFile } from 'node:fs/promises'
import {
  type Credential,
  createGraphClient,
  type GraphClient,
  type GraphClientOptions,
  type TransportOptions,
} from '@tourniquet/core'
import type { RunnerConfig } from '../env.js'
import { SettingsError } from '../errors.js'

export async function credentialFor(config: RunnerConfig): Promise<Credential> {
  const c = config.credential
  if (c.kind === 'secret') return { kind: 'secret', clientSecret: c.secret }
  if (c.kind === 'managedIdentity') return { kind: 'managedIdentity', clientId: c.clientId }
  if (c.kind === 'federated')
    return { kind: 'federatedManagedIdentity', managedIdentityClientId: c.managedIdentityClientId }
  const pem = await readFile(c.path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new SettingsError([
      {
        variable: 'AZURE_CLIENT_CERTIFICATE_PATH',
        message: `${c.path} cannot be read (${e.code ?? 'error'}); expected a PEM file with the private key and the certificate`,
      },
    ])
  })
  return { kind: 'certificate', pem }
}

/** The Graph client for a configuration; `transport` adds trust in a private CA (the demo's fake tenant). */
export function clientFromConfig(
  config: RunnerConfig,
  credential: Credential,
  transport?: TransportOptions,
  sharedBudgets?: GraphClientOptions['sharedBudgets'],
): GraphClient {
  return createGraphClient({
    ...(transport ? { transport } : {}),
    ...(sharedBudgets ? { sharedBudgets } : {}),
    tenantId: config.tenantId,
    clientId: config.clientId,
    credential,
    cloud: config.cloud,
    authorityHost: config.authorityHost,
    graphRoot: config.graphRoot,
    deadlineAt: Date.now() + config.maxRuntimeMs,
    throttle: {
      identityProtection: { capacity: 1, refillPerSecond: config.identityProtectionRps },
      directoryWrite: { capacity: 3_000, refillPerSecond: config.directoryWriteRps },
      defenderForIdentity: { capacity: 20, refillPerSecond: config.defenderRps },
    },
  })
}
