// Evaluation time of the example policy for 1,000 / 10,000 / 100,000 risky users (1-3 detections
// each), median of 5 runs after a warm-up. Run: pnpm --filter @tourniquet/policy bench
import { readFileSync } from 'node:fs'
import { evaluate, parsePolicy } from '../dist/index.js'

const policy = parsePolicy(readFileSync(new URL('../../../examples/policy.yaml', import.meta.url), 'utf8'))
const now = new Date('2026-01-15T12:00:00Z')
const TYPES = [
  'leakedCredentials',
  'unfamiliarFeatures',
  'impossibleTravel',
  'passwordSpray',
  'anonymizedIPAddress',
  'newCountry',
]
const SOURCES = ['IdentityProtection', 'MicrosoftCloudAppSecurity']

function signals(n) {
  let s = 1
  const rnd = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    return s / 0x7fffffff
  }
  const users = []
  for (let i = 0; i < n; i++) {
    const id = `00000000-0000-4000-a000-${String(i).padStart(12, '0')}`
    const synced = rnd() < 0.2
    users.push({
      userId: id,
      userPrincipalName: `user${i}@contoso.example`,
      risk: { level: rnd() < 0.5 ? 'high' : 'medium', state: 'atRisk' },
      detections: Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, k) => ({
        id: `${id}-${k}`,
        riskEventType: TYPES[Math.floor(rnd() * TYPES.length)],
        source: SOURCES[Math.floor(rnd() * SOURCES.length)],
        detectedDateTime: new Date(now.getTime() - Math.floor(rnd() * 30) * 3_600_000).toISOString(),
      })),
      directory: {
        accountEnabled: true,
        onPremisesSyncEnabled: synced,
        userType: rnd() < 0.05 ? 'Guest' : 'Member',
      },
      defender: synced
        ? {
            identityAccountId: `mdi-${id}`,
            accounts: [
              {
                provider: 'ActiveDirectory',
                identifier: `ad-${id}`,
                actions: ['disable', 'enable', 'forcePasswordReset'],
              },
            ],
          }
        : undefined,
    })
  }
  return { users, groupMembers: { 'b4ea0000-0000-4000-a000-00000000b4ea': [] } }
}

console.log('| users | median ms | µs per user | steps planned (before limits) |')
console.log('|---|---|---|---|')
for (const n of [1_000, 10_000, 100_000]) {
  const input = signals(n)
  evaluate(policy, input, now)
  const times = []
  let plan
  for (let r = 0; r < 5; r++) {
    const t = performance.now()
    plan = evaluate(policy, input, now)
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  const median = times[2]
  const wanted = Object.values(plan.wanted).reduce((a, b) => a + b, 0)
  console.log(`| ${n} | ${median.toFixed(1)} | ${((median * 1000) / n).toFixed(2)} | ${wanted} |`)
}
