/**
 * `pulumi preview --policy-pack infra/dist/policy-pack` (after `pnpm build`). Constructing the pack
 * starts Pulumi's policy server, so tests import ./policies.js, never this file.
 */
import { PolicyPack } from '@pulumi/policy'
import { policies } from './policies.js'

new PolicyPack('tourniquet', { policies })
