import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Records one apply run whose revokeSessions steps fail (the app lacks User.RevokeSessions.All),
// for infra/test/fixtures/audit.jsonl. Run from test/ after `pnpm build`; prints the audit lines.
const root = join(import.meta.dirname, '..', '..')
const mg = await import(join(root, 'packages/mock-graph/dist/index.js'))
const mock = mg.createMockGraph({ scenario: 'demo' })
const app = mock.tenant.apps.get(mg.REMEDIATION_APP_ID)
app.roles = app.roles.filter((r) => r !== 'User.RevokeSessions.All')
const server = await mg.serveMock(mock, {})
const dir = await mkdtemp(join(tmpdir(), 'tq-fx-'))
await writeFile(join(dir, 'ca.pem'), server.caPem ?? '')
const env = {
  // biome-ignore lint/style/noProcessEnv: the child needs PATH and nothing else of this environment
  PATH: process.env.PATH,
  NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
  AZURE_TENANT_ID: mg.DEFAULT_TENANT_ID,
  AZURE_CLIENT_ID: mg.REMEDIATION_APP_ID,
  AZURE_CLIENT_SECRET: mg.REMEDIATION_APP_SECRET,
  AZURE_AUTHORITY_HOST: server.url,
  TOURNIQUET_GRAPH_URL: server.url,
  TOURNIQUET_POLICY: join(root, 'examples/policy.yaml'),
  TOURNIQUET_LEDGER: join(dir, 'ledger.jsonl'),
  TOURNIQUET_MODE: 'apply',
}
const child = spawn(process.execPath, [join(root, 'apps/runner/dist/cli.js'), 'run'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
})
let out = ''
child.stdout.on('data', (d) => {
  out += d
})
child.on('close', async (code) => {
  process.stdout.write(out)
  console.error('exit', code)
  await server.close()
  process.exit(0)
})
