// Quick-start demo. Until the remediation job (apps/runner) lands, this shows what the Graph client
// does without any network: it prints what it ran, and never contacts Microsoft.
import { CLOUD_NAMES, resolveEndpoints, riskDetectionFilter } from '@tourniquet/core'

console.log('Tourniquet demo (core only: the remediation job is not built yet)')
for (const cloud of CLOUD_NAMES) {
  const e = resolveEndpoints({ cloud })
  console.log(`  cloud ${cloud.padEnd(8)} login ${e.authorityHost.padEnd(34)} graph ${e.graphRoot}`)
}
const since = new Date(Date.now() - 24 * 3_600_000)
console.log(
  `  risk detection filter for the last 24 h: ${riskDetectionFilter({ since, riskLevels: ['high'] })}`,
)
console.log('Ran: built @tourniquet/core and resolved endpoints and filters locally; no request was sent.')
