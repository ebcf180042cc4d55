import { buildSchema, type GraphQLSchema } from 'graphql';
import { ATTEMPT_OUTCOMES, CHANNELS, MESSAGE_STATUSES, PRIORITIES } from '@ca/contracts';
import { NOTIFICATION_TYPES } from '../notifications/notification-schema';

/** REST's lower-case values as GraphQL enum names (EMAIL, DEAD_LETTERED): one list, so the two APIs never drift. */
export const toEnum = (value: string): string => value.toUpperCase();
export const fromEnum = (value: string): string => value.toLowerCase();
const enumOf = (values: readonly string[]) => values.map(toEnum).join(' ');

/**
 * The GraphQL schema: the same resources as REST (POST /v1/messages, POST /v1/notifications,
 * GET /v1/messages/:id, GET /v1/messages, POST /v1/messages/:id/cancel), the same validation and the
 * same error codes (extensions.code).
 */
export const SDL = /* GraphQL */ `
"""Delivery channel."""
enum Channel { ${enumOf(CHANNELS)} }
enum Priority { ${enumOf(PRIORITIES)} }
"""Delivery status (as GET /v1/messages/:id)."""
enum MessageStatus { ${enumOf(MESSAGE_STATUSES)} }
enum AttemptOutcome { ${enumOf(ATTEMPT_OUTCOMES)} }
"""The seed's notification types (the channel of a notification)."""
enum NotificationType { ${NOTIFICATION_TYPES.join(' ')} }

"""A JSON object: a message's metadata (string, number or boolean values), a notification's templateParams."""
scalar JSONObject

"""One provider call."""
type Attempt {
  n: Int!
  at: String!
  outcome: AttemptOutcome!
  error: String
  backoffMs: Int
}

"""
A message: what was asked (recipient masked) and what happened. In \`messages\` the status is the
router's projection of delivery events (eventually consistent); \`message(id)\` reads it live, with
\`attempts\` and \`errorMessage\` (null in listings).
"""
type Message {
  id: ID!
  channel: Channel!
  to: String!
  status: MessageStatus!
  priority: Priority!
  correlationId: String
  userId: String
  templateId: String
  createdAt: String!
  lastAttemptedAt: String
  deliveryAttempts: Int!
  errorMessage: String
  attempts: [Attempt!]
  traceId: String!
  traceUrl: String
}

type MessageEdge {
  cursor: String!
  node: Message!
}

type PageInfo {
  hasNextPage: Boolean!
  endCursor: String
}

"""Relay-style connection over GET /v1/messages: newest first, keyset cursors."""
type MessageConnection {
  edges: [MessageEdge!]!
  pageInfo: PageInfo!
}

"""Filters of GET /v1/messages; createdAfter/createdBefore are RFC 3339 times."""
input MessageFilter {
  status: MessageStatus
  channel: Channel
  userId: String
  correlationId: String
  templateId: String
  createdAfter: String
  createdBefore: String
}

"""The body of POST /v1/messages."""
input SendMessageInput {
  channel: Channel!
  to: String!
  subject: String
  body: String!
  priority: Priority
  correlationId: String
  metadata: JSONObject
  """RFC 3339 with an offset: send then (status SCHEDULED until due)."""
  sendAt: String
}

"""The 202 of POST /v1/messages; replayed: true when an Idempotency-Key returned the original answer."""
type SendMessagePayload {
  id: ID!
  status: MessageStatus!
  traceId: String!
  traceUrl: String
  replayed: Boolean!
}

"""The body of POST /v1/notifications (the seed's request): the user's address and locale, the template rendered strictly."""
input SendNotificationInput {
  userId: String!
  type: NotificationType!
  templateId: String!
  templateParams: JSONObject
  priority: Priority
  correlationId: String
}

"""The 202 of POST /v1/notifications; deferredUntil when a per-user limit (policy defer) scheduled it."""
type SendNotificationPayload {
  notificationId: ID!
  status: MessageStatus!
  traceId: String!
  traceUrl: String
  deferredUntil: String
  replayed: Boolean!
}

"""The 200 of POST /v1/messages/:id/cancel."""
type CancelMessagePayload {
  id: ID!
  status: MessageStatus!
  canceledAt: String!
}

type Query {
  """GET /v1/messages/:id (scope read). Another merchant's id: null with error MESSAGE_NOT_FOUND."""
  message(id: ID!): Message
  """GET /v1/messages (scope read): first 1-100 (default 20), after = a previous endCursor."""
  messages(filter: MessageFilter, first: Int, after: String): MessageConnection!
}

type Mutation {
  """
  POST /v1/messages (scope send): same validation, dedup and limits. idempotencyKey (or the
  Idempotency-Key header) as in REST. One sendMessage per request, so the API rate limit counts every send.
  """
  sendMessage(input: SendMessageInput!, idempotencyKey: String): SendMessagePayload!
  """
  POST /v1/notifications (scope send): user, template, opt-outs and per-user limits as in REST
  (USER_RATE_LIMITED, NOTIFICATION_UNDELIVERABLE with reason, TEMPLATE_PARAMS_MISSING with missing).
  Counts as the request's one send.
  """
  sendNotification(input: SendNotificationInput!, idempotencyKey: String): SendNotificationPayload!
  """
  POST /v1/messages/:id/cancel (scope send): a message no provider call has touched is canceled (again:
  the same answer); after one, MESSAGE_NOT_CANCELABLE with messageStatus.
  """
  cancelMessage(id: ID!): CancelMessagePayload!
}
`;

export function buildMessageSchema(): GraphQLSchema {
  return buildSchema(SDL);
}
