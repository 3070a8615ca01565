import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const INFRA = join(import.meta.dirname, '..')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name)
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : []
  })
}

// The root of @pulumi/azure-native loads every Azure service (about 6,000 type files to check);
// a sub-module loads one. Node ESM also needs the explicit /index.js.
describe('azure-native import cost', () => {
  it('only sub-modules are imported, each as <module>/index.js', () => {
    const offenders: string[] = []
    for (const file of [...sources(join(INFRA, 'src')), ...sources(join(INFRA, 'policy-pack'))]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(@pulumi\/azure-native[^']*)'/g)) {
        if (!/^@pulumi\/azure-native\/[a-z]+\/index\.js$/.test(m[1] ?? '')) offenders.push(`${file}: ${m[1]}`)
      }
    }
    expect(offenders).toEqual([])
  })
})
