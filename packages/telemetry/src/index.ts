export * from './logger';
export * from './spans';
export { DEFAULT_INSTRUMENTATIONS } from './instrumentations';
export { TransactionIdTracker, transactionIdOf } from './transaction-ids';
