export * from './mock-broker';
export * from './client';
