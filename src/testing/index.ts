/**
 * `weftjs/testing`: the shared conformance suites that every executor (and every store)
 * passes, so that a new backend is proven by the same cases.
 */
export {
  describeExecutorConformance,
  type ExecutorConformanceOptions,
} from './executor-conformance.ts';
export {
  describeStoreConformance,
  type StoreConformanceOptions,
} from './store-conformance.ts';
