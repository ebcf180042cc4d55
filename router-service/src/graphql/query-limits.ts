import { GraphQLError, Kind, type ValidationContext, type ValidationRule } from 'graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { GRAPHQL_CODES } from './graphql-errors';

export interface QueryLimits {
  /** Deepest selection allowed (the deepest useful query, messages → edges → node → attempts → field, is 5). */
  maxDepth: number;
  /** graphql-armor's static cost (objects 2, scalars 1, times the depth factor). */
  maxCost: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = { maxDepth: 6, maxCost: 1000 };

/** graphql-armor reports through an exception by default; this reports as a validation error with our code instead. */
const report = (code: string) => (context: ValidationContext | null, error: GraphQLError) => {
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code } }));
};

const SENDS = new Set(['sendMessage', 'sendNotification']);

/**
 * A mutation document may send once (sendMessage or sendNotification): the per-key API rate limit
 * charges one token per HTTP request, so aliases (`a: sendMessage … b: sendMessage …`) must not send
 * many for one token. A fragment at the root counts as a send (it may hide one).
 */
const oneSendPerRequest: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation !== 'mutation') return;
    const sends = node.selectionSet.selections.filter((s) => s.kind !== Kind.FIELD || SENDS.has(s.name.value));
    if (sends.length > 1) {
      context.reportError(new GraphQLError('A request may send one message: use one sendMessage or sendNotification field per request (no aliases or fragments repeating it)', {
        nodes: [node], extensions: { code: GRAPHQL_CODES.oneSendPerRequest },
      }));
    }
  },
});

/**
 * Validation rules added to graphql-js's own. Rejected documents never execute: the answer is a
 * 400 with errors (GraphQL over HTTP, application/graphql-response+json). Introspection is left to
 * authenticated callers and is not counted against depth/cost (the schema is published in the repo anyway).
 */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, propagateOnRejection: false, onReject: [report(GRAPHQL_CODES.tooDeep)] }),
    costLimitRule({ maxCost: limits.maxCost, ignoreIntrospection: true, propagateOnRejection: false, onReject: [report(GRAPHQL_CODES.tooCostly)] }),
    oneSendPerRequest,
  ];
}
