/** The `tenant` label of a message without a tenant (records written before tenants existed). */
export const NO_TENANT = 'none';
/** The `tenant` label of every tenant past the cap. */
export const OTHER_TENANTS = 'other';
/** Default number of tenants that get a label of their own (METRICS_TENANT_LABEL_LIMIT). */
export const DEFAULT_TENANT_LABEL_LIMIT = 20;

export type TenantLabel = (tenantId: string | null | undefined) => string;

/**
 * Bounds the `tenant` label: the first `limit` tenants this process sees keep their id, every later
 * one is `other`, so a merchant flood cannot turn into a series explosion (each labelled counter
 * has at most channels × providers × outcomes × (limit + 2) series). Which tenants are "first" is
 * per process and per start; a dashboard that needs one tenant for sure sets the limit above the
 * tenant count. 0 turns the label into `other` for everyone.
 */
export function createTenantLabel(limit: number): TenantLabel {
  const known = new Set<string>();
  return (tenantId) => {
    if (!tenantId) return NO_TENANT;
    if (known.has(tenantId)) return tenantId;
    if (known.size >= limit) return OTHER_TENANTS;
    known.add(tenantId);
    return tenantId;
  };
}
