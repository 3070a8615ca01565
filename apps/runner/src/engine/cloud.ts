/**
 * What the configured national cloud offers, checked against what the policy needs before any
 * request is sent (each API page's national-cloud include in MDC): a run that cannot work there stops with exit 2
 * naming the API and the cloud; a Defender for Identity route that other users can do without
 * becomes a skip with the reason.
 */
import { apiAvailable, type CloudName, ConfigError, GRAPH_API_NAMES } from '@tourniquet/core'
import { apiNeeds, type Policy, type Signals } from '@tourniquet/policy'

/** Throws a ConfigError (exit 2) naming the first API the policy cannot do without in `cloud`. */
export function assertCloudOffers(policy: Policy, cloud: CloudName): void {
  for (const need of apiNeeds(policy)) {
    if (need.otherRoute || apiAvailable(need.api, cloud)) continue
    throw new ConfigError(
      'TOURNIQUET_CLOUD',
      `the policy needs ${GRAPH_API_NAMES[need.api]} for ${need.why}, and the '${cloud}' cloud does not offer it; ` +
        (need.api === 'identityProtection'
          ? 'Tourniquet cannot run in this cloud'
          : 'remove the rule or its action, or widen the rule to users it can reach through Entra'),
    )
  }
}

/** The APIs the policy would use that `cloud` lacks, for the evaluator to skip with the reason. */
export function unavailableApis(policy: Policy, cloud: CloudName): Signals['unavailable'] {
  const needsDefender = apiNeeds(policy).some((n) => n.api === 'defenderForIdentity')
  if (!needsDefender || apiAvailable('defenderForIdentity', cloud)) return undefined
  return { defenderForIdentity: `the '${cloud}' cloud does not offer` }
}
