export { type InterceptedNetwork as Network, interceptNetwork } from '@tourniquet/mock-graph'
