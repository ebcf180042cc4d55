import { buildSchema, type GraphQLSchema } from 'graphql';
import { ATTEMPT_OUTCOMES, CHANNELS, MESSAGE_STATUSES, PRIORITIES } from '@ca/contracts';

/** REST's lower-case values as GraphQL enum names (EMAIL, DEAD_LETTERED): one list, so the two APIs never drift. */
export const toEnum = (value: string): string => value.toUpperCase();
export const fromEnum = (value: string): string => value.toLowerCase();
const enumOf = (values: readonly string[]) => values.map(toEnum).join(' ');

/**
 * The GraphQL schema: the same resources as REST (POST /v1/messages, GET /v1/messages/:id,
 * GET /v1/messages), the same validation and the same error codes (extensions.code).
 */
export const SDL = /* GraphQL */ `
"""Delivery channel."""
enum Channel { ${enumOf(CHANNELS)} }
enum Priority { ${enumOf(PRIORITIES)} }
"""Delivery status (as GET /v1/messages/:id)."""
enum MessageStatus { ${enumOf(MESSAGE_STATUSES)} }
enum AttemptOutcome { ${enumOf(ATTEMPT_OUTCOMES)} }

"""A JSON object of string, number or boolean values (a message's metadata)."""
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
}
`;

export function buildMessageSchema(): GraphQLSchema {
  return buildSchema(SDL);
}
