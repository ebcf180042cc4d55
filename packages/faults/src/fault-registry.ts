import type { Channel } from '@ca/contracts';
import type { FaultKey, FaultName, FaultSet } from './fault-set';

/**
 * The faults one process injects right now. Started from FAULTS, changed through the admin API;
 * the decorators read it on every call, so a change bites at the next call without a restart.
 */
export interface Faults {
  /** A copy of the set in force. */
  current(): FaultSet;
  /** Replaces the whole set (PUT semantics: what is not named is off). */
  replace(set: FaultSet): void;
  clear(): void;
  /** The numeric value of a switch (share or ms), the channel's own value first; 0 when off. */
  value(name: FaultName, channel?: Channel): number;
  /** Whether a boolean switch is on. */
  isOn(name: FaultName): boolean;
  /** True with the switch's share as probability (random() from the caller's deps). */
  rolls(name: FaultName, random: () => number, channel?: Channel): boolean;
}

export function createFaults(initial: FaultSet = {}): Faults {
  let set: FaultSet = { ...initial };
  const read = (name: FaultName, channel?: Channel): number | boolean | undefined =>
    (channel ? set[`${name}.${channel}` as FaultKey] : undefined) ?? set[name as FaultKey];
  return {
    current: () => ({ ...set }),
    replace(next) {
      set = { ...next };
    },
    clear() {
      set = {};
    },
    value(name, channel) {
      const v = read(name, channel);
      return typeof v === 'number' ? v : 0;
    },
    isOn(name) {
      return read(name) === true;
    },
    rolls(name, random, channel) {
      const share = this.value(name, channel);
      return share > 0 && random() < share;
    },
  };
}
