/**
 * Which steps wait for a person's approval: the policy's `approvals.require` for every rule, plus a
 * rule's own `requireApproval`. The step keeps its route and evidence; only its `approval` is set.
 */
import type { Step } from './plan.js'
import type { Policy } from './schema.js'

export function markApprovals(policy: Policy, steps: Step[]): void {
  const global = new Set(policy.approvals.require)
  const byRule = new Map(policy.rules.map((r) => [r.name, new Set(r.requireApproval ?? [])]))
  for (const step of steps) {
    if (global.has(step.action) || byRule.get(step.rule)?.has(step.action))
      step.approval = { timeoutMs: policy.approvals.timeout, onTimeout: policy.approvals.onTimeout }
  }
}
