/**
 * Azure role assignments take effect with a delay (azure-docs
 * articles/role-based-access-control/troubleshooting.md: changes can take up to 10 minutes), and
 * Container Apps resolves Key Vault references and registry credentials when the job is created or
 * updated. A value passed through here is released only once the newest of the role assignments is
 * `seconds` old, so the job is not created in the window where its identity's roles are not yet
 * visible. Assignments that already existed are old: an ordinary `pulumi up` does not wait.
 */
import type * as authorization from '@pulumi/azure-native/authorization/index.js'
import * as pulumi from '@pulumi/pulumi'

export function afterRolePropagation<T>(
  value: pulumi.Input<T>,
  assignments: authorization.RoleAssignment[],
  seconds: number,
  now: () => number = Date.now,
): pulumi.Output<T> {
  return pulumi.all([value, ...assignments.map((a) => a.createdOn)]).apply(async ([v, ...created]) => {
    const newest = Math.max(0, ...created.map((c) => Date.parse(String(c))).filter((t) => !Number.isNaN(t)))
    const wait = newest + seconds * 1000 - now()
    if (newest > 0 && wait > 0) await new Promise((r) => setTimeout(r, wait))
    return v as pulumi.Unwrap<T>
  }) as pulumi.Output<T>
}
