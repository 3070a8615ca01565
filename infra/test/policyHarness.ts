/** Calls a policy's validateResource directly with the arguments the policy server would pass. */
import type {
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy'

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

/** Calls a stack policy's validateStack with the resources as the policy server would pass them. */
export async function stackViolations(
  policy: StackValidationPolicy,
  resources: Array<{ type: string; name: string; props: Record<string, unknown> }>,
): Promise<string[]> {
  const found: string[] = []
  const args = {
    resources: resources.map((r) => ({
      ...r,
      urn: `urn:pulumi:test::tourniquet::${r.type}::${r.name}`,
      opts: {},
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    })),
    stackTags: new Map<string, string>(),
    getConfig: () => ({}),
  } as unknown as StackValidationArgs
  await policy.validateStack(args, (message: string) => found.push(message))
  return found
}
