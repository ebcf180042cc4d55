import { HTTP_HEADERS, type MessageListItem, type MessageView } from '@ca/contracts';
import type { Logger } from '@ca/telemetry';
import type { Principal } from '../auth/key-store';
import type { Scope } from '../auth/api-key';
import { InsufficientScope, ValidationFailed, type FieldError } from '../errors';
import { cancelMessage, type CancelDeps } from '../messages/cancel-message';
import { listMessages, parseMessageQuery } from '../messages/message-query';
import { readMessageView, type StatusDeps } from '../messages/message-status';
import { UUID } from '../messages/messages-router';
import { sendMessage, type SendDeps } from '../messages/send-message';
import type { NotificationDeps } from '../notifications/accept-notification';
import { sendNotification } from '../notifications/send-notification';
import { fromEnum, toEnum } from './schema';
import { toGraphQLError } from './graphql-errors';

export type GraphqlContext = {
  principal: Principal;
  traceId: string;
  /** The Idempotency-Key header, used when the mutation has no idempotencyKey argument. */
  idempotencyKeyHeader: string | undefined;
};

export interface ResolverDeps {
  /** The accept deps carry the per-user limit defaults, so sendNotification shares them. */
  send: SendDeps & { accept: NotificationDeps };
  status: StatusDeps;
  cancel: CancelDeps;
  logger: Logger;
}

type Args = Record<string, unknown>;
type Resolver = (args: Args, ctx: GraphqlContext) => Promise<unknown>;

/** Drops nulls (GraphQL's "not given") and lower-cases enum values: the REST body or query the shared code expects. */
function restShape(input: Args | null | undefined, enums: readonly string[]): Args {
  const out: Args = {};
  for (const [k, v] of Object.entries(input ?? {})) {
    if (v === null || v === undefined) continue;
    out[k] = enums.includes(k) && typeof v === 'string' ? fromEnum(v) : v;
  }
  return out;
}

function requireScope(ctx: GraphqlContext, scope: Scope): void {
  if (!ctx.principal.scopes.includes(scope)) throw new InsufficientScope(scope);
}

function messageNode(m: MessageView | MessageListItem) {
  return {
    ...m,
    channel: toEnum(m.channel),
    status: toEnum(m.status),
    priority: toEnum(m.priority),
    userId: 'userId' in m ? m.userId : null,
    templateId: 'templateId' in m ? m.templateId : null,
    errorMessage: 'errorMessage' in m ? m.errorMessage : null,
    attempts: 'attempts' in m ? m.attempts.map((a) => ({ ...a, outcome: toEnum(a.outcome) })) : null,
    traceUrl: m.links.trace,
  };
}

function uuidArg(raw: unknown): string {
  const id = String(raw);
  if (!UUID.test(id)) throw new ValidationFailed([{ field: 'id', message: '"id" must be a valid UUID', type: 'string.guid' }]);
  return id.toLowerCase();
}

/** REST query parameter names → GraphQL argument paths, so VALIDATION_FAILED names what the caller sent. */
const ARG_OF: Record<string, string> = { limit: 'first', cursor: 'after' };

/**
 * The root resolvers (graphql-js rootValue). Each calls the function its REST route calls; an
 * error leaves as a GraphQL error with the REST problem's code (toGraphQLError).
 */
export function rootResolvers(deps: ResolverDeps): Record<string, Resolver> {
  const guarded = (fn: Resolver): Resolver => async (args, ctx) => {
    try {
      return await fn(args, ctx);
    } catch (err) {
      throw toGraphQLError(err, deps.logger);
    }
  };
  return {
    sendMessage: guarded(async (args, ctx) => {
      requireScope(ctx, 'send');
      const key = typeof args.idempotencyKey === 'string' ? args.idempotencyKey : ctx.idempotencyKeyHeader;
      const body = restShape(args.input as Args, ['channel', 'priority']);
      const accepted = await sendMessage(deps.send, body, key, ctx.traceId, ctx.principal.tenantId);
      const { id, status, traceId, links } = accepted.body;
      return { id, status: toEnum(status), traceId, traceUrl: links.trace, replayed: accepted.replayed };
    }),

    sendNotification: guarded(async (args, ctx) => {
      requireScope(ctx, 'send');
      const key = typeof args.idempotencyKey === 'string' ? args.idempotencyKey : ctx.idempotencyKeyHeader;
      // NotificationType and Priority are already the seed's upper-case values.
      const accepted = await sendNotification(deps.send, restShape(args.input as Args, []), key, ctx.traceId, ctx.principal.tenantId);
      const { id, status, traceId, links, deferredUntil } = accepted.body;
      return { notificationId: id, status: toEnum(status), traceId, traceUrl: links.trace, deferredUntil: deferredUntil ?? null, replayed: accepted.replayed };
    }),

    cancelMessage: guarded(async (args, ctx) => {
      requireScope(ctx, 'send');
      const canceled = await cancelMessage(deps.cancel, uuidArg(args.id), ctx.principal.tenantId);
      return { ...canceled, status: toEnum(canceled.status) };
    }),

    message: guarded(async (args, ctx) => {
      requireScope(ctx, 'read');
      return messageNode(await readMessageView(deps.status, uuidArg(args.id), ctx.principal.tenantId));
    }),

    messages: guarded(async (args, ctx) => {
      requireScope(ctx, 'read');
      const query = {
        ...restShape(args.filter as Args, ['status', 'channel']),
        ...(args.first !== null && args.first !== undefined ? { limit: args.first } : {}),
        ...(typeof args.after === 'string' ? { cursor: args.after } : {}),
      };
      let parsed;
      try {
        parsed = parseMessageQuery(query);
      } catch (err) {
        if (!(err instanceof ValidationFailed)) throw err;
        throw new ValidationFailed(err.errors.map((e: FieldError) => ({ ...e, field: ARG_OF[e.field] ?? `filter.${e.field}` })));
      }
      const page = await listMessages(deps.status.db, ctx.principal.tenantId, parsed, { traceViewUrl: deps.status.settings.traceViewUrl, now: deps.send.accept.clock.now() });
      return {
        edges: page.items.map((i) => ({ cursor: i.cursor, node: messageNode(i.item) })),
        pageInfo: { hasNextPage: page.hasMore, endCursor: page.items.at(-1)?.cursor ?? null },
      };
    }),
  };
}

export const IDEMPOTENCY_HEADER = HTTP_HEADERS.idempotencyKey;
