// The job as the benchmarks run it: a working folder with the mock's CA and a policy, and the
// environment of a job pointed at the mock at `scale` times Graph's speed.
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_TENANT_ID, REMEDIATION_APP_ID, REMEDIATION_APP_SECRET } from '@tourniquet/mock-graph'

export async function jobSetup(server, policy, scale) {
  const dir = await mkdtemp(join(tmpdir(), 'tq-bench-'))
  await writeFile(join(dir, 'ca.pem'), server.caPem)
  await writeFile(join(dir, 'policy.yaml'), policy)
  const env = {
    PATH: process.env.PATH,
    NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
    AZURE_TENANT_ID: DEFAULT_TENANT_ID,
    AZURE_CLIENT_ID: REMEDIATION_APP_ID,
    AZURE_CLIENT_SECRET: REMEDIATION_APP_SECRET,
    AZURE_AUTHORITY_HOST: server.url,
    TOURNIQUET_GRAPH_URL: server.url,
    TOURNIQUET_POLICY: join(dir, 'policy.yaml'),
    TOURNIQUET_LEDGER: join(dir, 'ledger.jsonl'),
    TOURNIQUET_MAX_RUNTIME: 'PT2H',
    // The job's budgets at the fake tenant's speed.
    TOURNIQUET_IDENTITY_PROTECTION_RPS: String(scale * 0.95),
    TOURNIQUET_DIRECTORY_WRITE_RPS: String(20 * scale),
    TOURNIQUET_DEFENDER_RPS: String(10 * scale),
  }
  return { dir, env }
}

/** A child's whole stdout and exit code once it closes (stderr is drained, not kept). */
export async function finished(child) {
  let stdout = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.resume()
  const code = await new Promise((r) => child.on('close', r))
  return { stdout, code }
}
