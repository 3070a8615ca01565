import { describe, expect, it } from 'vitest'
import { isConfigError } from '../errors.js'
import { isLoopbackHost, resolveEndpoints, validateOrigin } from './clouds.js'

describe('clouds', () => {
  it.each([
    ['global', 'https://login.microsoftonline.com', 'https://graph.microsoft.com'],
    ['usgov', 'https://login.microsoftonline.us', 'https://graph.microsoft.us'],
    ['usgovdod', 'https://login.microsoftonline.us', 'https://dod-graph.microsoft.us'],
    ['china', 'https://login.chinacloudapi.cn', 'https://microsoftgraph.chinacloudapi.cn'],
  ] as const)('%s: login host, Graph root and .default scope', (cloud, login, graph) => {
    const e = resolveEndpoints({ cloud })
    expect(e.authorityHost).toBe(login)
    expect(e.graphRoot).toBe(graph)
    expect(e.scope).toBe(`${graph}/.default`)
  })
  it.each([
    ['global', 'api://AzureADTokenExchange'],
    ['usgov', 'api://AzureADTokenExchangeUSGov'],
    ['usgovdod', 'api://AzureADTokenExchangeUSGov'],
    ['china', 'api://AzureADTokenExchangeChina'],
  ] as const)('%s: the federated credential audience is %s', (cloud, audience) => {
    expect(resolveEndpoints({ cloud }).tokenExchangeAudience).toBe(audience)
  })
  it('overrides hosts but keeps the cloud resource as the token audience', () => {
    const e = resolveEndpoints({
      cloud: 'usgov',
      graphRoot: 'http://127.0.0.1:8080/',
      authorityHost: 'https://login.proxy.test',
    })
    expect(e.graphRoot).toBe('http://127.0.0.1:8080')
    expect(e.authorityHost).toBe('https://login.proxy.test')
    expect(e.scope).toBe('https://graph.microsoft.us/.default')
  })
  it('accepts http only for loopback', () => {
    expect(validateOrigin('graphRoot', 'http://localhost:3000')).toBe('http://localhost:3000')
    expect(validateOrigin('graphRoot', 'http://[::1]:3000')).toBe('http://[::1]:3000')
    expect(validateOrigin('graphRoot', 'http://127.5.0.1')).toBe('http://127.5.0.1')
    expect(() => validateOrigin('graphRoot', 'http://192.168.1.2')).toThrow(/https/)
    expect(() => validateOrigin('graphRoot', 'http://graph.microsoft.com')).toThrow(/https/)
  })
  it('names the field in errors', () => {
    try {
      resolveEndpoints({ graphRoot: 'https://graph.microsoft.com/v1.0' })
      expect.unreachable()
    } catch (e) {
      expect(isConfigError(e)).toBe(true)
      expect((e as Error).message).toMatch(/^graphRoot: .*without a path/)
    }
  })
  it('recognises loopback names', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true)
    expect(isLoopbackHost('[::1]')).toBe(true)
    expect(isLoopbackHost('localhost')).toBe(true)
    expect(isLoopbackHost('localhost.evil.com')).toBe(false)
    expect(isLoopbackHost('10.0.0.1')).toBe(false)
  })
})
