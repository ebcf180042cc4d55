export * from './channels';
export * from './topics';
export * from './headers';
export * from './message-schema';
export * from './api-types';
export * from './mask';
export * from './provider-rules';
export * from './span-attributes';
