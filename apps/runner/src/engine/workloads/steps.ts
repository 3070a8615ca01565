/**
 * Workload-identity steps in the runner's own terms: their ledger key (the users' key shape, with
 * the service principal's object id as the subject id, so one ledger holds both kinds), their audit
 * records (marked `subject: servicePrincipal`) and their approval view.
 */
import {
  type ServicePrincipalSkip,
  type ServicePrincipalStep,
  servicePrincipalRouteName,
} from '@tourniquet/policy'
import { ledgerKey } from '../../ledger/ledger.js'
import type { StepRecord, StepStatus } from '../../outputs/audit.js'

/** The ledger key of a workload step: subject id | action | evidence key, as for users. */
export const workloadKey = (s: ServicePrincipalStep): string =>
  `${ledgerKey({ userId: s.servicePrincipalId, action: s.action, evidenceKey: s.evidenceKey })}|${servicePrincipalRouteName(s.route)}`

/** How the audit, the table and the report name a service principal: its name and appId. */
export const subjectName = (s: { displayName: string; appId: string | undefined }): string =>
  s.appId === undefined ? s.displayName : `${s.displayName} (app ${s.appId})`

export function workloadRecord(
  runId: string,
  step: ServicePrincipalStep,
  status: StepStatus,
  extra: Partial<StepRecord> = {},
): StepRecord {
  return {
    event: 'step',
    runId,
    subject: 'servicePrincipal',
    userId: step.servicePrincipalId,
    userPrincipalName: subjectName(step),
    rule: step.rule,
    action: step.action,
    route: servicePrincipalRouteName(step.route),
    status,
    reason: null,
    graphRequestId: null,
    correlationId: null,
    evidenceKey: step.evidenceKey,
    durationMs: 0,
    ...extra,
  }
}

/** A workload step the plan skipped (self, excluded, managed identity, no route): it names no route. */
export function workloadSkipRecord(runId: string, skip: ServicePrincipalSkip): StepRecord {
  return {
    event: 'step',
    runId,
    subject: 'servicePrincipal',
    userId: skip.servicePrincipalId,
    userPrincipalName: subjectName(skip),
    rule: skip.rule ?? null,
    action: skip.action ?? null,
    route: null,
    status: 'skipped',
    reason: `${skip.reason}: ${skip.detail}`,
    graphRequestId: null,
    correlationId: null,
    evidenceKey: null,
    durationMs: 0,
  }
}
