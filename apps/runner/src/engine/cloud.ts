/**
 * What the configured national cloud offers, checked against what the policy needs before any
 * request is sent; the facts and the rule are the policy package's (`cloudGaps`). A run that cannot
 * work there stops with exit 2 naming the API and the cloud; a Defender for Identity route that
 * other users can do without becomes a skip with the reason.
 */
import type { CloudName } from '@tourniquet/core'
import { API_NAMES, apiAvailable, apiNeeds, cloudGaps, type Policy, type Signals } from '@tourniquet/policy'
import { SettingsError } from '../errors.js'

/** Throws a SettingsError (exit 2) naming the first API the policy cannot do without in `cloud`. */
export function assertCloudFits(policy: Policy, cloud: CloudName): void {
  const [gap] = cloudGaps(policy, cloud)
  if (gap === undefined) return
  throw new SettingsError([
    {
      variable: 'TOURNIQUET_CLOUD',
      message:
        `the policy needs ${API_NAMES[gap.api]} for ${gap.why}, and the '${cloud}' cloud does not offer it; ` +
        (gap.api === 'identityProtection'
          ? 'Tourniquet cannot run in this cloud'
          : 'remove the rule or its action, or widen the rule to users it can reach through Entra'),
    },
  ])
}

/** The APIs the policy would use that `cloud` lacks, for the evaluator to skip with the reason. */
export function unavailableApis(policy: Policy, cloud: CloudName): Signals['unavailable'] {
  const needsDefender = apiNeeds(policy).some((n) => n.api === 'defenderForIdentity')
  if (!needsDefender || apiAvailable('defenderForIdentity', cloud)) return undefined
  return { defenderForIdentity: `the '${cloud}' cloud does not offer` }
}
