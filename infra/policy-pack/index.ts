/**
 * `pulumi preview --policy-pack dist/policy-pack` from infra/ (after `pnpm build`, which packages the folder). Constructing the pack
 * starts Pulumi's policy server, so tests import ./policies.js, never this file.
 */
import { PolicyPack } from '@pulumi/policy'
import { policies } from './policies.js'

new PolicyPack('tourniquet', { policies })
