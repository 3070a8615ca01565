/**
 * Vitest global setup: the loopback PKI and the RSA client certificate the TLS tests use, made once
 * per run in the main process, before any test file starts, and handed to the files by `inject`.
 *
 * They used to be made in a `beforeAll` of each file, so a suite passed only if the machine made
 * its keys within vitest's 10 s hook timeout: test/auth.test.ts failed twice at that hook in full
 * runs on two shared cores. Made here, no hook or test waits on key generation, and the keys are
 * made once per run instead of once per file. Throwaway keys, generated in memory, never committed.
 */
import { createClientCertificate, createLoopbackPki, type LoopbackPki } from '@tourniquet/mock-graph'
import type { TestProject } from 'vitest/node'

export interface ClientCertificate {
  /** Private key and certificate in one PEM, as AZURE_CLIENT_CERTIFICATE_PATH holds them. */
  pem: string
  certPem: string
  thumbprintSha256: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    loopbackPki: LoopbackPki
    clientCertificate: ClientCertificate
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const [pki, certificate] = await Promise.all([createLoopbackPki(), createClientCertificate()])
  project.provide('loopbackPki', pki)
  project.provide('clientCertificate', certificate)
}
