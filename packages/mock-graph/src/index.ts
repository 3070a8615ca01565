/** @tourniquet/mock-graph: a faithful fake Microsoft identity platform + Graph tenant. */

export type { MockCloud } from './clouds.js'
export { MOCK_CLOUDS } from './clouds.js'
export { pageCount } from './graph.js'
export type { InterceptedNetwork } from './intercept.js'
export { interceptNetwork } from './intercept.js'
export type { FaultOptions, LimitOptions, MockGraphOptions, RequestLogEntry } from './mock.js'
export { createMockGraph, MockGraph } from './mock.js'
export type {
  MockAction,
  MockApp,
  MockApplication,
  MockDetection,
  MockGroup,
  MockIdentityAccount,
  MockKeyCredential,
  MockPasswordCredential,
  MockProviderAccount,
  MockRiskyServicePrincipal,
  MockRiskyUser,
  MockServicePrincipal,
  MockServicePrincipalDetection,
  MockUser,
} from './model.js'
export { mswHandlers } from './msw.js'
export { evaluate as evaluateFilter, parseFilter } from './odata.js'
export { seeded } from './random.js'
export type { GenerateOptions, ScenarioName, UserSpec } from './scenarios.js'
export {
  addUserSpec,
  BREAK_GLASS_GROUP_ID,
  DEFAULT_TENANT_ID,
  DOMAIN,
  EXPIRED_APP_ID,
  EXPIRED_APP_SECRET,
  FULL_ROLES,
  generateTenant,
  namedScenario,
  READER_APP_ID,
  READER_APP_SECRET,
  REMEDIATION_APP_ID,
  REMEDIATION_APP_SECRET,
  registerApps,
  remediationTokenForm,
  SCENARIO_NAMES,
  WORKLOAD_APP_ID,
  WORKLOAD_APP_SECRET,
} from './scenarios.js'
export type { RunningMock, ServeOptions } from './server.js'
export { serveMock } from './server.js'
export { Tenant } from './tenant.js'
export type { LoopbackPki } from './tls.js'
export { createClientCertificate, createLoopbackPki } from './tls.js'
export { OTHER_TENANT_ID, seedWorkloadIdentities, WORKLOAD_IDS, WORKLOAD_ROLES } from './workloads.js'
