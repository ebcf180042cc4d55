export { FAULT, faultNameOf, parseFaults, validateFaultSet, faultSetSchema, type FaultKey, type FaultName, type FaultSet, type FaultFieldError } from './fault-set';
export { createFaults, type Faults } from './fault-registry';
export { markFault, markActiveFault } from './mark-fault';
export { AdminUnauthorized, FaultsInvalid, IntakeDownInjected } from './errors';
export { faultsAdminRouter, FAULTS_ADMIN_PATH, type FaultsAdminOptions } from './admin-router';
export { withPublishFaults, InjectedPublishFailure } from './broker-faults';
export { withQueryLatency } from './postgres-faults';
export { unavailableWhileDown } from './intake-faults';
