#!/usr/bin/env node
/**
 * mock-graph serve [--scenario NAME | --size N [--seed S]] [--port N] [--http] [--out DIR]
 * Serves the fake tenant on loopback and writes, to --out, the CA (ca.pem) and an env file with the
 * settings a runner needs to talk to it. The printed lines name the files, never a credential.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createMockGraph } from './mock.js'
import {
  DEFAULT_TENANT_ID,
  generateTenant,
  namedScenario,
  REMEDIATION_APP_ID,
  REMEDIATION_APP_SECRET,
  SCENARIO_NAMES,
  type ScenarioName,
} from './scenarios.js'
import { serveMock } from './server.js'

function fail(message: string): never {
  process.stderr.write(`mock-graph: ${message}\n`)
  process.exit(2)
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        scenario: { type: 'string' },
        size: { type: 'string' },
        seed: { type: 'string' },
        port: { type: 'string' },
        http: { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean' },
      },
    })
  } catch (e) {
    fail((e as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help || positionals[0] !== 'serve') {
    process.stdout.write(
      `usage: mock-graph serve [--scenario ${SCENARIO_NAMES.join('|')}] [--size N --seed S] [--port N] [--http] [--out DIR]\n`,
    )
    process.exit(values.help ? 0 : 2)
  }
  const scenario = (values.scenario as string | undefined) ?? 'demo'
  if (!SCENARIO_NAMES.includes(scenario as ScenarioName))
    fail(`--scenario: unknown '${scenario}'; expected one of ${SCENARIO_NAMES.join(', ')}`)
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail('--port: expected a number from 0 to 65535')
  let tenant: ReturnType<typeof namedScenario>
  if (values.size !== undefined) {
    const size = Number(values.size)
    if (!Number.isInteger(size) || size < 1 || size > 1_000_000)
      fail('--size: expected a whole number of risky users')
    tenant = generateTenant({ riskyUsers: size, seed: values.seed === undefined ? 1 : Number(values.seed) })
  } else {
    tenant = namedScenario(scenario as ScenarioName)
  }
  const mock = createMockGraph({ tenant })
  const running = await serveMock(mock, { port, https: !values.http })
  const out = resolve((values.out as string | undefined) ?? '.mock-graph')
  mkdirSync(out, { recursive: true })
  const env = [
    `AZURE_TENANT_ID=${DEFAULT_TENANT_ID}`,
    `AZURE_CLIENT_ID=${REMEDIATION_APP_ID}`,
    `AZURE_CLIENT_SECRET=${REMEDIATION_APP_SECRET}`,
    `AZURE_AUTHORITY_HOST=${running.url}`,
    `TOURNIQUET_GRAPH_URL=${running.url}`,
  ]
  if (running.caPem) {
    writeFileSync(join(out, 'ca.pem'), running.caPem)
    env.push(`NODE_EXTRA_CA_CERTS=${join(out, 'ca.pem')}`)
  }
  writeFileSync(join(out, 'mock.env'), `${env.join('\n')}\n`, { mode: 0o600 })
  process.stdout.write(
    `mock-graph serving ${values.size ? `${values.size} generated risky users` : `scenario '${scenario}'`} at ${running.url}\n`,
  )
  process.stdout.write(
    `settings for a runner: ${join(out, 'mock.env')}${running.caPem ? ` (CA: ${join(out, 'ca.pem')})` : ''}\n`,
  )
  const stop = (): void => {
    void running.close().then(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

void main()
