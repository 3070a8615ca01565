/** The policy pack's rules, importable by tests (index.ts alone builds the PolicyPack). */
import type { Policies } from '@pulumi/policy'
import { graphRolesAllowList } from './rules/graphRolesAllowList.js'
import { jobManagedIdentity } from './rules/jobManagedIdentity.js'
import { jobNoPlainSecrets } from './rules/jobNoPlainSecrets.js'
import { jobReplicaTimeout } from './rules/jobReplicaTimeout.js'
import { keyVaultProtected } from './rules/keyVaultProtected.js'
import { passwordEndDate } from './rules/passwordEndDate.js'
import { watchAppSingleReplica } from './rules/watchAppSingleReplica.js'

export const policies: Policies = [
  keyVaultProtected,
  jobNoPlainSecrets,
  jobManagedIdentity,
  graphRolesAllowList,
  passwordEndDate,
  jobReplicaTimeout,
  watchAppSingleReplica,
]
