export * from './mock-broker';
export * from './client';
export * from './background-consumer';
