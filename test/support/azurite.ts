/**
 * A real Azure Storage implementation for ledger tests: Azurite on loopback HTTPS (OAuth needs
 * HTTPS), in memory, started and stopped by the tests themselves. It trusts bearer tokens from the
 * mock identity platform (issuer sts.windows.net, audience storage.azure.com), as Azure Storage
 * trusts Entra ID.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { LoopbackPki } from '@tourniquet/mock-graph'

const run = promisify(execFile)
const AZURITE = join(import.meta.dirname, '..', 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js')
// Azurite's published development account key (not a secret: it is in Microsoft's docs).
const DEV_ACCOUNT = 'devstoreaccount1'
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface Azurite {
  /** e.g. https://127.0.0.1:PORT/devstoreaccount1 */
  accountUrl: string
  createContainer(name: string): Promise<void>
  stop(): Promise<void>
}

/** The development account's shared key credential: for tests that drive the ledger class itself over plain HTTP. */
export const devAccountCredential = async () => {
  const { StorageSharedKeyCredential } = await import('@azure/storage-blob')
  return new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY)
}

/**
 * Starts Azurite: on HTTPS with OAuth when `pki` is given (the runner's own authentication), else on
 * plain HTTP with the development account key (tests that use the ledger class directly).
 */
export async function startAzurite(pki: LoopbackPki | undefined, dir: string): Promise<Azurite> {
  const cert = join(dir, 'azurite-cert.pem')
  const key = join(dir, 'azurite-key.pem')
  const ca = join(dir, 'azurite-ca.pem')
  if (pki) {
    await writeFile(cert, pki.certPem)
    await writeFile(key, pki.keyPem)
    await writeFile(ca, pki.caPem)
  }
  const port = await freePort()
  const tls = pki ? ['--oauth', 'basic', '--cert', cert, '--key', key] : []
  const child: ChildProcess = spawn(
    process.execPath,
    [
      AZURITE,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--inMemoryPersistence',
      '--extentMemoryLimit',
      '256',
      ...tls,
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  await new Promise<void>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`Azurite did not start: ${out}`)), 30_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('successfully listens')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Azurite exited (${code}): ${out}`))
    })
  })
  const accountUrl = `${pki ? 'https' : 'http'}://127.0.0.1:${port}/${DEV_ACCOUNT}`
  return {
    accountUrl,
    async createContainer(name) {
      // Created with the account key in a child Node that trusts the test CA, as infra would create it.
      const script = `
        const { BlobServiceClient, StorageSharedKeyCredential } = await import(${JSON.stringify(join(import.meta.dirname, '..', 'node_modules', '@azure', 'storage-blob', 'dist', 'esm', 'index.js'))});
        const svc = new BlobServiceClient(${JSON.stringify(accountUrl)}, new StorageSharedKeyCredential(${JSON.stringify(DEV_ACCOUNT)}, ${JSON.stringify(DEV_KEY)}));
        await svc.getContainerClient(${JSON.stringify(name)}).createIfNotExists();`
      await run(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH ?? '', ...(pki ? { NODE_EXTRA_CA_CERTS: ca } : {}) },
      })
    },
    async stop() {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    },
  }
}
