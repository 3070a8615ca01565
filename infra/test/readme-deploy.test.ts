import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CONFIG_KEYS } from '../src/config.js'
import { parseSettings } from '../src/settings.js'

const INFRA = join(import.meta.dirname, '..')
const ROOT = join(INFRA, '..')
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const deploySection = readme.slice(readme.indexOf('## Deploying (Pulumi)'), readme.indexOf('## Layout'))

/** Starts the policy pack the way Pulumi's Node.js analyzer does (require of the folder) and reads its port. */
function loadPack(dir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', 'require(process.cwd())'], { cwd: dir })
    let out = ''
    let err = ''
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`no port within 20 s; stderr: ${err}`))
    }, 20_000)
    child.stdout.on('data', (chunk) => {
      out += String(chunk)
      if (out.includes('\n')) {
        clearTimeout(timer)
        child.kill()
        resolve(out.trim())
      }
    })
    child.stderr.on('data', (chunk) => {
      err += String(chunk)
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (!out.includes('\n')) reject(new Error(`exited ${code} without a port; stderr: ${err}`))
    })
  })
}

// The README's deploy section, followed as written (needs `pnpm build`, as the README says).
describe("the README's deploy section", () => {
  it('names one policy pack folder, run from infra/, and that folder loads as a Pulumi policy pack', async () => {
    expect(deploySection).toContain('\ncd infra\n')
    const paths = [...deploySection.matchAll(/--policy-pack (\S+)/g)].map((m) => m[1])
    expect(paths.length).toBeGreaterThan(0)
    expect(new Set(paths).size).toBe(1)
    const dir = join(INFRA, paths[0] as string)
    // Pulumi reads PulumiPolicy.yaml in the folder; before, dist/policy-pack had none.
    expect(readFileSync(join(dir, 'PulumiPolicy.yaml'), 'utf8')).toMatch(/^runtime: nodejs$/m)
    // @pulumi/policy reads the pack version from package.json in the folder; require() needs its main.
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      version?: string
      main?: string
    }
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(existsSync(join(dir, pkg.main ?? 'index.js'))).toBe(true)
    // The pack starts its analyzer server and prints the port Pulumi connects to.
    expect(await loadPack(dir)).toMatch(/^\d+$/)
  })

  it('every `pulumi config set tourniquet:` key is one the program reads, and the table lists every key', () => {
    const set = [...deploySection.matchAll(/pulumi config set (?:--secret )?tourniquet:(\w+)/g)].map(
      (m) => m[1],
    )
    expect(set).toEqual(expect.arrayContaining(['location', 'image', 'registryId', 'policyPath']))
    const secrets = ['registryPassword', 'notifyUrls', 'notifySecret']
    for (const key of set) expect([...CONFIG_KEYS, ...secrets]).toContain(key)
    for (const key of [...CONFIG_KEYS, ...secrets]) expect(deploySection).toContain(`\`${key}\``)
  })

  it('the configuration its deploy commands set passes validation', () => {
    const configure = deploySection.slice(deploySection.indexOf('### Configure a stack and deploy'))
    const commands = configure.slice(
      configure.indexOf('```sh'),
      configure.indexOf('```\n', configure.indexOf('```sh') + 5),
    )
    const raw: Record<string, string> = {}
    for (const m of commands.matchAll(/pulumi config set tourniquet:(\w+) (\S+)/g))
      raw[m[1] as string] = m[2] as string
    raw.image = (raw.image as string).replace('<digest>', 'a'.repeat(64))
    raw.registryId = (raw.registryId as string)
      .replace('<subscription-id>', '0b1c2d3e-0000-4000-a000-000000000001')
      .replace('<group>', 'images')
    expect(() => parseSettings(raw)).not.toThrow()
  })

  it('lists exactly the outputs the program exports', () => {
    const exported = [
      ...readFileSync(join(INFRA, 'src', 'index.ts'), 'utf8').matchAll(/^export const (\w+)/gm),
    ].map((m) => m[1])
    const sentence = /Outputs: (.*?); no secret\./s.exec(deploySection)?.[1] ?? ''
    expect([...sentence.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort()).toEqual(exported.sort())
  })

  // azure-docs articles/container-apps/containers.md: Container Apps runs Linux x86-64 (linux/amd64) images.
  it('builds for linux/amd64 and keeps the host out of the build context', () => {
    expect(deploySection).toMatch(/docker buildx build --platform linux\/amd64 -f apps\/runner\/Dockerfile/)
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
    for (const pattern of ['**/node_modules', '**/dist', '**/.env', '**/*.jsonl'])
      expect(ignore).toContain(pattern)
  })
})

describe('the example stacks', () => {
  it.each(['Pulumi.dev.yaml', 'Pulumi.prod.yaml'])('%s passes validation', (file) => {
    const raw: Record<string, string> = {}
    for (const m of readFileSync(join(INFRA, file), 'utf8').matchAll(
      /^ {2}tourniquet:(\w+): "?([^"\n]*)"?$/gm,
    ))
      raw[m[1] as string] = m[2] as string
    expect(Object.keys(raw)).toContain('image')
    expect(() => parseSettings(raw)).not.toThrow()
  })
})
