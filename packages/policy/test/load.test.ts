import { describe, expect, it } from 'vitest'
import { isPolicyError, MAX_POLICY_BYTES, type PolicyIssue, parsePolicy } from '../src/index.js'

const VALID = `version: 1
lookback: PT24H
rules:
  - name: leaked
    when:
      riskLevel: [high]
    then: [confirmCompromised]
`

function issues(text: string, file = 'p.yaml'): PolicyIssue[] {
  try {
    parsePolicy(text, file)
  } catch (e) {
    if (isPolicyError(e)) return e.issues
    throw e
  }
  throw new Error('expected the policy to be refused')
}

describe('policy files: good ones', () => {
  it('parses YAML with defaults filled in', () => {
    const p = parsePolicy(VALID)
    expect(p).toMatchObject({
      match: 'first',
      exclude: { users: [], groups: [] },
      limits: { maxActionsPerRun: 50, maxPerAction: {} },
    })
  })
  it('turns durations into milliseconds once, at parse time', () => {
    const p = parsePolicy(
      VALID.replace('riskLevel: [high]', 'riskLevel: [high]\n      detectedWithin: P1DT30M'),
    )
    expect(p.lookback).toBe(24 * 3_600_000)
    expect(p.rules[0]?.when.detectedWithin).toBe(24 * 3_600_000 + 30 * 60_000)
  })
  it('parses the same policy as JSON', () => {
    const json = JSON.stringify({
      version: 1,
      lookback: 'P1D',
      rules: [{ name: 'x', when: {}, then: ['disable'] }],
    })
    expect(parsePolicy(json, 'p.json').rules[0]?.then).toEqual(['disable'])
  })
  it('maps Defender for Identity action names to ours, in rules and limits', () => {
    const p = parsePolicy(
      `${VALID.replace('[confirmCompromised]', '[markUserAsCompromised, revokeAllSessions, requireUserToSignInAgain]')}limits:\n  maxPerAction: { revokeAllSessions: 3 }\n`,
    )
    expect(p.rules[0]?.then).toEqual(['confirmCompromised', 'revokeSessions', 'requireSignInAgain'])
    expect(p.limits.maxPerAction).toEqual({ revokeSessions: 3 })
  })
})

describe('policy files: bad ones name the file, line, path and what was expected', () => {
  it('an unknown action', () => {
    const [i] = issues(VALID.replace('[confirmCompromised]', '[confirmCompromised, disabel]'))
    expect(i).toMatchObject({ file: 'p.yaml', line: 7, path: 'rules[0].then[1]' })
    expect(i?.message).toMatch(/unknown action 'disabel'; expected one of confirmCompromised, .*disable/)
  })
  it('an unknown key (a typo in a safety setting is never ignored)', () => {
    const [i] = issues(`${VALID}exlude:\n  users: [a@b.com]\n`)
    expect(i).toMatchObject({ line: 8, path: 'exlude', message: "unknown key 'exlude'" })
  })
  it('a bad duration', () => {
    const [i] = issues(VALID.replace('PT24H', '24h'))
    expect(i).toMatchObject({ line: 2, path: 'lookback' })
    expect(i?.message).toMatch(/ISO 8601 duration/)
  })
  it('months are refused (their length depends on the calendar)', () => {
    expect(issues(VALID.replace('PT24H', 'P1M'))[0]?.path).toBe('lookback')
  })
  it('empty rules', () => {
    const [i] = issues('version: 1\nlookback: PT1H\nrules: []\n')
    expect(i).toMatchObject({ path: 'rules', message: 'expected at least one rule', line: 3 })
  })
  it('an exclusion that is neither a UPN nor a GUID', () => {
    const [i] = issues(`${VALID}exclude:\n  users: [good@contoso.com, "just a name"]\n`)
    expect(i).toMatchObject({ path: 'exclude.users[1]', line: 9 })
    expect(i?.message).toMatch(/'just a name' is neither a UPN/)
  })
  it('a wrong type', () => {
    const [i] = issues(VALID.replace('version: 1', 'version: "one"'))
    expect(i).toMatchObject({ path: 'version', line: 1 })
  })
  it('a mapping or a list where a risk level belongs (even one that cannot be turned into text)', () => {
    const found = issues(VALID.replace('riskLevel: [high]', 'riskLevel: [{toString: false}, [high], 7]'))
    expect(found.map((i) => i.message)).toEqual([
      'unknown risk level a mapping; expected one of low, medium, high',
      'unknown risk level a list; expected one of low, medium, high',
      'unknown risk level 7; expected one of low, medium, high',
    ])
    expect(found[0]?.path).toBe('rules[0].when.riskLevel[0]')
  })

  it('duplicate keys', () => {
    const [i] = issues(`${VALID}lookback: P2D\n`)
    expect(i).toMatchObject({ path: '(syntax)', line: 8 })
    expect(i?.message).toMatch(/unique/i)
  })
  it('duplicate rule names', () => {
    const text = `${VALID}  - name: leaked\n    when: {}\n    then: [disable]\n`
    expect(issues(text)[0]).toMatchObject({ path: 'rules[1].name', message: "duplicate rule name 'leaked'" })
  })
  it('a YAML alias bomb is refused, not expanded', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(',')}]`,
      )
    const [i] = issues(bomb.join('\n'))
    expect(i?.message).toMatch(/alias|cannot be read/i)
  })
  it('a huge file is refused before parsing', () => {
    const [i] = issues(`${VALID}# ${'x'.repeat(MAX_POLICY_BYTES)}`)
    expect(i?.message).toMatch(/larger than/)
  })
  it('an empty file', () => {
    expect(issues('')[0]?.message).toMatch(/the file is empty/)
  })
  it('a syntax error', () => {
    const [i] = issues('version: 1\nrules: [\n')
    expect(i).toMatchObject({ path: '(syntax)' })
    expect(i?.line).toBeGreaterThan(1)
  })
  it('the error message lists every issue as file:line:col path: message', () => {
    try {
      parsePolicy(VALID.replace('[confirmCompromised]', '[nope]'), 'policies/prod.yaml')
    } catch (e) {
      expect((e as Error).message).toMatch(
        /^policies\/prod\.yaml:7:\d+ rules\[0\]\.then\[0\]: unknown action 'nope'/,
      )
    }
  })
})
