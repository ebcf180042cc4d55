export * from './problem';
export * from './health';
