import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { REMEDIATION_APP_SECRET } from '@tourniquet/mock-graph'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { runCli, Tenant } from '../support/e2e.js'

// Notifications: one message per run to Teams (Workflows webhook, Adaptive Card), Slack (incoming
// webhook, Block Kit) and generic JSON (HMAC-SHA256 signed), received here on loopback.

const textBlock = z.object({ type: z.literal('TextBlock'), text: z.string().min(1) }).loose()
const factSet = z.object({
  type: z.literal('FactSet'),
  facts: z.array(z.object({ title: z.string(), value: z.string() })),
})
const teamsSchema = z.object({
  type: z.literal('message'),
  attachments: z
    .array(
      z.object({
        contentType: z.literal('application/vnd.microsoft.card.adaptive'),
        contentUrl: z.null(),
        content: z.object({
          $schema: z.literal('http://adaptivecards.io/schemas/adaptive-card.json'),
          type: z.literal('AdaptiveCard'),
          version: z.string().regex(/^1\.\d$/),
          body: z.array(z.union([textBlock, factSet])).min(1),
        }),
      }),
    )
    .length(1),
})
const slackText = z.object({ type: z.enum(['mrkdwn', 'plain_text']), text: z.string().min(1).max(3000) })
const slackSchema = z.object({
  text: z.string().min(1),
  blocks: z
    .array(
      z.union([
        z.object({ type: z.literal('header'), text: slackText }),
        z.object({ type: z.literal('section'), text: slackText }),
        z.object({ type: z.literal('context'), elements: z.array(slackText).min(1) }),
      ]),
    )
    .min(1)
    .max(50),
})
const jsonSchema = z.object({
  type: z.literal('tourniquet.run'),
  version: z.literal(1),
  runId: z.string(),
  exitCode: z.number(),
  counts: z.record(z.string(), z.number()),
  severe: z.array(
    z.object({ userPrincipalName: z.string(), action: z.string(), status: z.string() }).loose(),
  ),
})

interface Received {
  path: string
  headers: IncomingMessage['headers']
  body: string
}

class Receiver {
  readonly got: Received[] = []
  server!: Server
  constructor(private readonly answer: (path: string, n: number) => number | 'hang') {}
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => {
        body += d.toString()
      })
      req.on('end', () => {
        this.got.push({ path: req.url ?? '', headers: req.headers, body })
        const a = this.answer(req.url ?? '', this.got.filter((g) => g.path === req.url).length)
        if (a === 'hang') return
        res.statusCode = a
        res.end()
      })
    })
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }
  stop(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((r) => this.server.close(() => r()))
  }
}

describe('notifications', () => {
  let t: Tenant | undefined
  let rx: Receiver | undefined
  afterEach(async () => {
    await t?.stop()
    await rx?.stop()
    t = undefined
    rx = undefined
  })

  it('one message per run to Teams, Slack and generic JSON; payloads valid, the generic one signed; no secret, no URL in the log', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    rx = new Receiver(() => 200)
    const base = await rx.start()
    const token = 'hook-token-b5e1a7c3'
    const urls = `teams:${base}/teams/${token},slack:${base}/slack/${token},json:${base}/json/${token}`
    const r = await runCli(
      ['run', '--apply'],
      t.env({ TOURNIQUET_NOTIFY_URLS: urls, TOURNIQUET_NOTIFY_SECRET: 'sign-key-7d1f' }),
    )
    expect(r.code).toBe(0)
    expect(rx.got.map((g) => g.path.split('/')[1]).sort()).toEqual(['json', 'slack', 'teams'])
    const of = (kind: string) => rx?.got.find((g) => g.path.startsWith(`/${kind}/`)) as Received
    const teams = teamsSchema.parse(JSON.parse(of('teams').body))
    expect(JSON.stringify(teams)).toMatch(/disable megan\.bowen@contoso\.example: succeeded/)
    slackSchema.parse(JSON.parse(of('slack').body))
    const json = of('json')
    const digest = jsonSchema.parse(JSON.parse(json.body))
    expect(digest.severe.map((s) => s.action).sort()).toEqual([
      'disable',
      'disable',
      'forcePasswordReset',
      'forcePasswordReset',
    ])
    // t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">, the time within the receiver's window.
    const [, sentAt, v1] =
      /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(json.headers['x-tourniquet-signature'])) ?? []
    expect(Math.abs(Date.now() / 1000 - Number(sentAt))).toBeLessThan(300)
    expect(v1).toBe(createHmac('sha256', 'sign-key-7d1f').update(`${sentAt}.${json.body}`).digest('hex'))
    expect(r.lines.filter((l) => l.event === 'warning')).toEqual([])
    for (const g of rx.got) {
      expect(g.body).not.toContain(REMEDIATION_APP_SECRET)
      expect(g.body).not.toContain('sign-key-7d1f')
      for (const pw of t.mock.tenant.passwordsSeen) expect(g.body).not.toContain(pw)
    }
    const deliveries = r.lines.filter((l) => l.event === 'notification')
    expect(deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered'])
    expect(r.stdout + r.stderr).not.toContain(token)
    expect(r.lines.at(-1)?.event).toBe('summary')
  })

  it('a generic target without a key is sent unsigned, and the audit warns naming the entry', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    rx = new Receiver(() => 200)
    const base = await rx.start()
    const r = await runCli(
      ['run', '--apply'],
      t.env({ TOURNIQUET_NOTIFY_URLS: `json:${base}/json/tok-4c2d` }),
    )
    expect(r.code).toBe(0)
    expect(rx.got).toHaveLength(1)
    expect(rx.got[0]?.headers['x-tourniquet-signature']).toBeUndefined()
    expect(r.lines.filter((l) => l.event === 'warning').map((l) => l.message)).toEqual([
      expect.stringMatching(
        /notification target 1 \(json http:\/\/127\.0\.0\.1:\d+\) is sent unsigned: set TOURNIQUET_NOTIFY_SECRET_1/,
      ),
    ])
    expect(r.stdout + r.stderr).not.toContain('tok-4c2d')
  })

  it('a plan with nothing done sends nothing', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    rx = new Receiver(() => 200)
    const base = await rx.start()
    const r = await runCli(['run'], t.env({ TOURNIQUET_NOTIFY_URLS: `json:${base}/json` }))
    expect(r.code).toBe(0)
    expect(rx.got).toEqual([])
  })

  it('a receiver that fails is retried, recorded as failed, and changes neither what the job did nor its exit code', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    rx = new Receiver(() => 500)
    const base = await rx.start()
    const r = await runCli(['run', '--apply'], t.env({ TOURNIQUET_NOTIFY_URLS: `slack:${base}/slack` }))
    expect(r.code).toBe(0)
    expect(rx.got.length).toBe(3)
    expect(r.lines.find((l) => l.event === 'notification')).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: 'HTTP 500',
    })
    expect(r.steps.filter((s) => s.status === 'succeeded').length).toBeGreaterThan(0)
  }, 30_000)

  it('a receiver that hangs costs at most its timeouts; the run ends with its own exit code', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    rx = new Receiver(() => 'hang')
    const base = await rx.start()
    const r = await runCli(
      ['run', '--apply'],
      t.env({ TOURNIQUET_NOTIFY_URLS: `teams:${base}/teams`, TOURNIQUET_NOTIFY_TIMEOUT: 'PT1S' }),
    )
    expect(r.code).toBe(0)
    expect(r.lines.find((l) => l.event === 'notification')).toMatchObject({
      status: 'failed',
      error: 'no answer within 1000 ms',
    })
    expect(r.summary).toMatchObject({ exitCode: 0 })
  }, 30_000)

  it('a bad notification URL is a configuration error that names the entry, never the URL', async () => {
    t = await Tenant.start({ scenario: 'demo' })
    const r = await runCli(
      ['run'],
      t.env({ TOURNIQUET_NOTIFY_URLS: 'http://hooks.example.com/secret-path-91' }),
    )
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/TOURNIQUET_NOTIFY_URLS: entry 1 must use https/)
    expect(r.stderr).not.toContain('secret-path-91')
  })
})
