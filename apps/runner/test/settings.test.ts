import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SETTING_NAMES, settingsHelp, settingsMarkdown } from '../src/settings.js'

const README = join(import.meta.dirname, '..', '..', '..', 'README.md')

/** The README's Markdown tables whose header is the settings table's. */
function configurationTables(readme: string): string[] {
  const section = readme.slice(readme.indexOf('### Configuration'), readme.indexOf('### Approvals'))
  return [...section.matchAll(/^\| variable \| meaning \| default \|\n(?:^\|.*\n)+/gm)].map((m) =>
    m[0].trimEnd(),
  )
}

describe('the settings table', () => {
  it('the README configuration section is exactly its two tables, operator then advanced', async () => {
    const tables = configurationTables(await readFile(README, 'utf8'))
    expect(tables).toEqual([settingsMarkdown('operator'), settingsMarkdown('advanced')])
  })

  it('--help lists every operator setting with its flag and names every advanced one', () => {
    const help = settingsHelp()
    for (const name of SETTING_NAMES) expect(help).toContain(name)
    expect(help).toMatch(/TOURNIQUET_MODE +--apply; default: plan/)
  })
})
