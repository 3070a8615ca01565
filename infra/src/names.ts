/**
 * Azure resource names built from the stack name and the deployment. Pure (no Pulumi), so every rule
 * is a unit test.
 *
 * Rules: azure-docs articles/azure-resource-manager/management/resource-name-rules.md (sections
 * Microsoft.App (jobs, containerApps), Microsoft.KeyVault, Microsoft.ManagedIdentity, Microsoft.OperationalInsights,
 * Microsoft.Storage); the job rule also in Azure/PSRule.Rules.Azure docs/en/rules/Azure.ContainerApp.JobNaming.md.
 */
import { createHash } from 'node:crypto'

export interface NameRule {
  min: number
  max: number
  pattern: RegExp
  what: string
}

export const NAME_RULES = {
  /** Microsoft.App/jobs: 2-32 lowercase letters, digits, hyphens; starts with a letter, ends alphanumeric; no `--`. */
  job: {
    min: 2,
    max: 32,
    pattern: /^(?!.*--)[a-z][a-z0-9-]*[a-z0-9]$/,
    what: 'a Container Apps job name: 2-32 lowercase letters, digits and hyphens, starting with a letter, ending with a letter or digit, no "--"',
  },
  /**
   * Microsoft.App/containerApps (the watcher): 2-32 lowercase letters, digits, hyphens; starts with a
   * letter, ends alphanumeric. No `--` as for jobs (the same API; not in the name-rules table).
   */
  containerApp: {
    min: 2,
    max: 32,
    pattern: /^(?!.*--)[a-z][a-z0-9-]*[a-z0-9]$/,
    what: 'a Container App name: 2-32 lowercase letters, digits and hyphens, starting with a letter, ending with a letter or digit, no "--"',
  },
  /** Microsoft.App/managedEnvironments: 2-60 lowercase letters, digits, hyphens; starts with a letter, ends alphanumeric. */
  environment: {
    min: 2,
    max: 60,
    pattern: /^(?!.*--)[a-z][a-z0-9-]*[a-z0-9]$/,
    what: 'a Container Apps environment name: 2-60 lowercase letters, digits and hyphens, starting with a letter',
  },
  /** Microsoft.ManagedIdentity/userAssignedIdentities: 3-128 alphanumerics, hyphens, underscores; starts alphanumeric. */
  identity: {
    min: 3,
    max: 128,
    pattern: /^[A-Za-z0-9][A-Za-z0-9_-]*$/,
    what: 'a user-assigned identity name: 3-128 letters, digits, hyphens and underscores',
  },
  /** Microsoft.OperationalInsights/workspaces: 4-63 alphanumerics and hyphens; starts and ends alphanumeric. */
  workspace: {
    min: 4,
    max: 63,
    pattern: /^[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$/,
    what: 'a Log Analytics workspace name: 4-63 letters, digits and hyphens',
  },
  /** Microsoft.KeyVault/vaults (global): 3-24 alphanumerics and hyphens; starts with a letter, ends alphanumeric, no `--`. */
  vault: {
    min: 3,
    max: 24,
    pattern: /^(?!.*--)[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$/,
    what: 'a Key Vault name: 3-24 letters, digits and hyphens, starting with a letter',
  },
  /** Microsoft.Storage/storageAccounts (global): 3-24 lowercase letters and digits. */
  storage: {
    min: 3,
    max: 24,
    pattern: /^[a-z0-9]+$/,
    what: 'a storage account name: 3-24 lowercase letters and digits',
  },
} as const satisfies Record<string, NameRule>

export type NameKind = keyof typeof NAME_RULES

/** The rule's complaint about `name`, or undefined when it is valid. */
export function nameProblem(kind: NameKind, name: string): string | undefined {
  const rule: NameRule = NAME_RULES[kind]
  if (name.length < rule.min || name.length > rule.max || !rule.pattern.test(name))
    return `'${name}' is not ${rule.what}`
  return undefined
}

function checked(kind: NameKind, name: string): string {
  const problem = nameProblem(kind, name)
  // A bug in this module, not bad config: every input is sanitized before it gets here.
  if (problem) throw new Error(`internal: ${problem}`)
  return name
}

const hash = (text: string, length: number) =>
  BigInt(`0x${createHash('sha256').update(text).digest('hex')}`)
    .toString(36)
    .slice(0, length)

/**
 * The stack name as a DNS-label fragment. Pulumi stack names may hold capitals, `_` and `.`; Azure
 * names built from them may not. Lowercase, every run of other characters becomes one hyphen.
 */
export function stackSlug(stack: string): string {
  const slug = stack
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return slug === '' ? 'stack' : slug
}

/**
 * `<prefix>-<stack>-<suffix>` within `max` characters. When the stack part has to be cut, or when
 * sanitizing changed it, a short hash of the raw stack name keeps `Prod_EU.2` and `prod-eu-2` apart.
 */
export function scopedName(kind: NameKind, prefix: string, stack: string, suffix: string): string {
  const room = NAME_RULES[kind].max - prefix.length - suffix.length - 2
  const slug = stackSlug(stack)
  const stackPart =
    slug === stack && slug.length <= room
      ? slug
      : `${slug.slice(0, Math.max(1, room - 5)).replace(/-+$/, '')}-${hash(stack, 4)}`
  return checked(kind, `${prefix}-${stackPart}-${suffix}`)
}

/**
 * Key Vault and storage account names are global across Azure: derive them from what is unique to
 * this deployment (the subscription and the resource group, whose name Pulumi auto-names with a
 * random suffix kept in state), never from the stack name alone, so a second adopter with
 * `pulumi stack init prod` gets different names, and so does a `destroy` then `up` of the same stack
 * (its new resource group has a new suffix), which keeps a soft-deleted vault from blocking it.
 */
export function globalName(
  kind: 'vault' | 'storage',
  prefix: string,
  subscriptionId: string,
  resourceGroup: string,
): string {
  const { max } = NAME_RULES[kind]
  const head = `${prefix}${kind === 'vault' ? 'kv' : 'st'}`
  return checked(
    kind,
    `${head}${hash(`${subscriptionId}/${resourceGroup}/${kind}`.toLowerCase(), max - head.length)}`,
  )
}
