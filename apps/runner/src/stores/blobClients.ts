/**
 * The narrow Azure Storage surface the stores use, built once per session on one credential and one
 * HTTP pipeline (Azure's own checkpoint store takes its container client from the caller the same
 * way: a store never builds a credential).
 */
import type { AccessToken, TokenCredential } from '@azure/core-auth'
import {
  AppendBlobClient,
  BlockBlobClient,
  newPipeline,
  type StorageSharedKeyCredential,
} from '@azure/storage-blob'
import { type Credential, createTokenProvider } from '@tourniquet/core'
import type { RunnerConfig } from '../env.js'

export interface BlobClients {
  blockBlob(url: string): BlockBlobClient
  appendBlob(url: string): AppendBlobClient
}

/** Blob clients on one pipeline: the job's token credential in Azure, a shared key against Azurite. */
export function blobClients(credential: TokenCredential | StorageSharedKeyCredential): BlobClients {
  const pipeline = newPipeline(credential)
  return {
    blockBlob: (url) => new BlockBlobClient(url, pipeline),
    appendBlob: (url) => new AppendBlobClient(url, pipeline),
  }
}

/** A Storage token credential that owns a connection pool: the session closes it. */
export type StorageCredential = TokenCredential & { close(): Promise<void> }

/**
 * The Storage credential, through the same msal setup as Graph, for the storage.azure.com audience:
 * the job's managed identity when TOURNIQUET_MANAGED_IDENTITY_CLIENT_ID names it (in Azure, the
 * identity infra grants Storage Blob Data Contributor on the ledger's and the state's containers),
 * else Graph's credential.
 */
export function storageCredential(config: RunnerConfig, credential: Credential): StorageCredential {
  const provider = createTokenProvider({
    tenantId: config.tenantId,
    clientId: config.clientId,
    credential:
      config.managedIdentityClientId === undefined
        ? credential
        : { kind: 'managedIdentity', clientId: config.managedIdentityClientId },
    cloud: config.cloud,
    authorityHost: config.authorityHost,
    resource: 'https://storage.azure.com',
  })
  return {
    async getToken(): Promise<AccessToken> {
      const t = await provider.getToken({ forceRefresh: false })
      return { token: t.token, expiresOnTimestamp: t.expiresOnMs }
    },
    close: () => provider.close(),
  }
}
