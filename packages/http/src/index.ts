export * from './problem';
export * from './health';
export * from './error-boundary';
export * from './allowed-methods';
export * from './http-server';
export * from './service-auth';
export * from './api-reference';
