export * from './errors';
export * from './metrics-export';
export * from './metrics-route';
export * from './tenant-label';
export { createRouterMetrics, METER_NAME, type InstrumentOptions, type RouterMetrics } from './router-metrics';
export * from './delivery-metrics';
export * from './ingest-metrics';
export * from './outbox-gauges';
export * from './consumer-lag';
