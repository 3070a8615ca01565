/** Calls a policy's validateResource directly with the arguments the policy server would pass. */
import type { ResourceValidationArgs, ResourceValidationPolicy } from '@pulumi/policy'

class NotApplicable extends Error {}

export async function violations(
  policy: ResourceValidationPolicy,
  type: string,
  props: Record<string, unknown>,
  name = 'r',
): Promise<string[] | 'not applicable'> {
  const found: string[] = []
  const args = {
    type,
    props,
    urn: `urn:pulumi:test::tourniquet::${type}::${name}`,
    name,
    opts: {},
    stackTags: new Map<string, string>(),
    isType: (cls: { __pulumiType?: string }) => cls.__pulumiType === type,
    asType: (cls: { __pulumiType?: string }) => (cls.__pulumiType === type ? props : undefined),
    getConfig: () => ({}),
    notApplicable: (reason?: string) => {
      throw new NotApplicable(reason)
    },
  } as unknown as ResourceValidationArgs
  const validate = Array.isArray(policy.validateResource)
    ? policy.validateResource
    : [policy.validateResource]
  try {
    for (const v of validate) await v?.(args, (message: string) => found.push(message))
  } catch (e) {
    if (e instanceof NotApplicable) return 'not applicable'
    throw e
  }
  return found
}
