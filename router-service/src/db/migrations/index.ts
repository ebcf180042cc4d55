import { listMigrations } from '@ca/postgres';
import { initial } from './0001-initial';
import { tenants } from './0002-tenants';
import { acceptRefused } from './0003-accept-refused';
import { outboxClaims } from './0004-outbox-claims';
import { usersTemplates } from './0005-users-templates';
import { scheduling } from './0006-scheduling';
import { messageListing } from './0007-message-listing';
import { consoleTables } from './0008-console';
import { quietHours } from './0009-quiet-hours';
import { webhooks } from './0010-webhooks';

/** Applied in order by @ca/postgres migrate(); append, never edit a shipped migration. */
export const routerMigrations = listMigrations([initial, tenants, acceptRefused, outboxClaims, usersTemplates, scheduling, messageListing, consoleTables, quietHours, webhooks]);
