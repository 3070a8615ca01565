import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { RUNNER_CMD_PREFIX } from '../src/components/runnerContainer.js'
import { parseSettings } from '../src/settings.js'
import { base, type Deployed, deploy, type Job, ofType, one, type WatchApp } from './deploy.js'

const APP = 'azure-native:app:ContainerApp'
const JOB = 'azure-native:app:Job'
const envOf = (container: { env: Array<{ name: string; value?: string; secretRef?: string }> } | undefined) =>
  Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? `secretRef:${e.secretRef}`]))

// Decision 014: with trigger watch, one always-on Container App runs `tourniquet watch` instead of
// the scheduled job; both run the same container (components/runnerContainer.ts).
describe('trigger watch: one watcher app instead of the job', () => {
  let d: Deployed
  let schedule: Deployed
  beforeAll(async () => {
    d = await deploy(
      parseSettings({
        ...base,
        authMode: 'secret',
        mode: 'apply',
        trigger: 'watch',
        watchInterval: 'PT10S',
        watchShare: '0.3',
      }),
    )
    schedule = await deploy(parseSettings({ ...base, authMode: 'secret', mode: 'apply' }))
  })
  const watcher = () => one(d.mocks, APP).inputs as unknown as WatchApp

  it('deploys the app, named <prefix>-<stack>-watch, and no job; outputs say so', () => {
    expect(ofType(d.mocks, JOB)).toEqual([])
    expect(watcher().containerAppName).toBe('tq-dev-watch')
    expect(d.outputs).toMatchObject({ trigger: 'watch', watchAppName: 'tq-dev-watch' })
    expect(d.outputs.jobName).toBeUndefined()
  })

  it('and the schedule trigger (the default) deploys the job every minute, and no app', () => {
    expect(ofType(schedule.mocks, APP)).toEqual([])
    const job = one(schedule.mocks, JOB).inputs as unknown as Job
    expect(job.configuration.scheduleTriggerConfig).toMatchObject({
      cronExpression: '* * * * *',
      parallelism: 1,
    })
    expect(schedule.outputs).toMatchObject({ trigger: 'schedule', jobName: 'tq-dev-runner' })
    expect(schedule.outputs.watchAppName).toBeUndefined()
  })

  it("runs the image's own command line with watch for run, as args (the ENTRYPOINT stays)", () => {
    const container = watcher().template.containers[0]
    expect(container?.command).toBeUndefined()
    expect(container?.args).toEqual([...RUNNER_CMD_PREFIX, 'watch'])
    // The Dockerfile's CMD is the same line with run: the GC flags of decision 006 are kept.
    const dockerfile = readFileSync(
      join(import.meta.dirname, '..', '..', 'apps', 'runner', 'Dockerfile'),
      'utf8',
    )
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1]
    expect(JSON.parse(cmd ?? '[]')).toEqual([...RUNNER_CMD_PREFIX, 'run'])
  })

  it('exactly one replica, no ingress, single revision mode, a 300 s grace period', () => {
    const w = watcher()
    expect(w.template.scale).toEqual({ minReplicas: 1, maxReplicas: 1 })
    expect(w.template.scale.rules).toBeUndefined()
    expect(w.configuration.ingress).toBeUndefined()
    expect(w.configuration.activeRevisionsMode).toBe('Single')
    expect(w.template.terminationGracePeriodSeconds).toBe(300)
    expect(w.workloadProfileName).toBe('Consumption')
  })

  it('carries the watch interval and share as TOURNIQUET_WATCH_INTERVAL and _SHARE', () => {
    expect(envOf(watcher().template.containers[0])).toMatchObject({
      TOURNIQUET_WATCH_INTERVAL: 'PT10S',
      TOURNIQUET_WATCH_SHARE: '0.3',
    })
    // Unset: the runner's own defaults apply, so infra writes nothing.
    const job = one(schedule.mocks, JOB).inputs as unknown as Job
    expect(Object.keys(envOf(job.template.containers[0]))).not.toContain('TOURNIQUET_WATCH_INTERVAL')
  })

  it('the same container as the job: image, identity, secrets, registries, env, volumes', () => {
    const w = watcher()
    const job = one(schedule.mocks, JOB).inputs as unknown as Job
    const [a, j] = [w.template.containers[0], job.template.containers[0]]
    expect(a?.image).toBe(j?.image)
    expect(a?.resources).toEqual(j?.resources)
    expect(a?.volumeMounts).toEqual(j?.volumeMounts)
    expect(w.template.volumes).toEqual(job.template.volumes)
    expect(w.identity).toEqual(job.identity)
    expect(w.configuration.registries).toEqual(job.configuration.registries)
    expect(w.configuration.secrets.map((s) => s.name)).toEqual(job.configuration.secrets.map((s) => s.name))
    const { TOURNIQUET_WATCH_INTERVAL, TOURNIQUET_WATCH_SHARE, TOURNIQUET_SECRET_ROTATION, ...rest } =
      envOf(a)
    expect(Object.keys(rest).sort()).toEqual(Object.keys(envOf(j)).sort())
    expect(rest).toMatchObject({
      AZURE_CLIENT_SECRET: 'secretRef:graph-client-secret',
      TOURNIQUET_MODE: 'apply',
    })
  })

  // A running replica keeps the secret it started with: a rotation must start a new revision.
  it('secret mode: the rotation number is in the template, so a rotation starts a new revision', () => {
    expect(envOf(watcher().template.containers[0])).toMatchObject({ TOURNIQUET_SECRET_ROTATION: '1' })
    const job = one(schedule.mocks, JOB).inputs as unknown as Job
    expect(Object.keys(envOf(job.template.containers[0]))).not.toContain('TOURNIQUET_SECRET_ROTATION')
  })

  it("the identity's role assignments are the job's: the same four, none per resource", () => {
    const roles = (x: Deployed) =>
      ofType(x.mocks, 'azure-native:authorization:RoleAssignment')
        .map(
          (r) => `${r.name} ${(r.inputs as { roleDefinitionId: string }).roleDefinitionId.split('/').at(-1)}`,
        )
        .sort()
    expect(roles(d)).toHaveLength(5)
    expect(roles(d)).toEqual(roles(schedule))
  })

  it('is created after the Key Vault secret and the role assignments, like the job', () => {
    const app = one(d.mocks, APP)
    for (const r of [
      one(d.mocks, 'azure-native:keyvault:Secret'),
      ...ofType(d.mocks, 'azure-native:authorization:RoleAssignment'),
    ])
      expect(app.at).toBeGreaterThanOrEqual(r.at)
  })

  it("the workbook reads the watcher's log column as well as the job's", () => {
    const workbook = one(d.mocks, 'azure-native:applicationinsights:Workbook')
    const content = JSON.parse(workbook.inputs.serializedData as string) as {
      items: Array<{ content: { query?: string } }>
    }
    // The audit's queries; the decision writers' query reads the storage account's log instead.
    const queries = content.items.flatMap((i) =>
      i.content.query?.includes('ContainerAppConsoleLogs_CL') ? [i.content.query] : [],
    )
    expect(queries.length).toBe(5)
    for (const q of queries)
      expect(q).toContain('column_ifexists("ContainerAppName_s", "") == "tq-dev-watch"')
    // The same workbook (GUID) whichever trigger: switching keeps its place and history.
    expect(workbook.inputs.resourceName).toBe(
      one(schedule.mocks, 'azure-native:applicationinsights:Workbook').inputs.resourceName,
    )
  })
})
