// Makes dist/policy-pack a Pulumi policy pack folder, the one `pulumi preview --policy-pack
// dist/policy-pack` names: Pulumi reads PulumiPolicy.yaml there, its Node.js analyzer loads the
// folder with require() (package.json "main"), and @pulumi/policy's PolicyPack reads the pack version
// from package.json in that folder. Runs after tsc in `pnpm build`.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const infra = join(import.meta.dirname, '..')
const out = join(infra, 'dist', 'policy-pack')
const { version } = JSON.parse(readFileSync(join(infra, 'package.json'), 'utf8'))
copyFileSync(join(infra, 'policy-pack', 'PulumiPolicy.yaml'), join(out, 'PulumiPolicy.yaml'))
writeFileSync(
  join(out, 'package.json'),
  `${JSON.stringify({ name: 'tourniquet-policy-pack', version, private: true, type: 'module', main: 'index.js' }, null, 2)}\n`,
)
