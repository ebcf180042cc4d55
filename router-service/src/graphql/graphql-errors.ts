import { GraphQLError } from 'graphql';
import { HttpProblem } from '@ca/http';
import type { Logger } from '@ca/telemetry';

/** Codes of our own for what only GraphQL can get wrong (README "Problem codes"). */
export const GRAPHQL_CODES = {
  parseFailed: 'GRAPHQL_PARSE_FAILED',
  validationFailed: 'GRAPHQL_VALIDATION_FAILED',
  tooDeep: 'QUERY_TOO_DEEP',
  tooCostly: 'QUERY_TOO_COMPLEX',
  oneSendPerRequest: 'ONE_SEND_PER_REQUEST',
  internal: 'INTERNAL_ERROR',
} as const;

/**
 * A resolver's error as a GraphQL error carrying the REST problem's stable code and status (and its
 * extensions: the invalid fields, duplicateOf, Retry-After). Anything else is a fault: logged, and
 * answered without its text (no SQL or stack in a response).
 */
export function toGraphQLError(err: unknown, logger: Logger): GraphQLError {
  if (err instanceof GraphQLError) return err;
  if (err instanceof HttpProblem) {
    const retryAfter = err.headers['Retry-After'];
    return new GraphQLError(err.detail ?? err.title, {
      extensions: {
        code: err.code, status: err.status, ...err.extensions,
        ...(retryAfter ? { retryAfterSeconds: Number(retryAfter) } : {}),
      },
    });
  }
  logger.error('graphql resolver failed', { error: (err as Error).message, stack: (err as Error).stack });
  return new GraphQLError('Internal error', { extensions: { code: GRAPHQL_CODES.internal, status: 500 } });
}

/**
 * Every error leaves with extensions.code: resolver errors already have one; a syntax error is
 * GRAPHQL_PARSE_FAILED; a document or variables the schema refuses is GRAPHQL_VALIDATION_FAILED.
 * (graphql-http answers both before execution: 400 with application/graphql-response+json.)
 */
export function formatError(err: Readonly<GraphQLError | Error>): GraphQLError {
  const e = err instanceof GraphQLError ? err : new GraphQLError(err.message);
  if (typeof e.extensions.code === 'string') return e;
  // With a path it came from executing a field (a fault, e.g. a non-null field without a value).
  const code = e.path ? GRAPHQL_CODES.internal : e.message.startsWith('Syntax Error') ? GRAPHQL_CODES.parseFailed : GRAPHQL_CODES.validationFailed;
  return new GraphQLError(e.message, {
    nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, originalError: e.originalError, extensions: { ...e.extensions, code },
  });
}
