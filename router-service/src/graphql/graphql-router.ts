import express, { Router, type RequestHandler } from 'express';
import { getOperationAST, parse } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/express';
import { HttpProblem } from '@ca/http';
import { UnsupportedMediaType } from '../errors';
import { principalOf } from '../auth/authenticate';
import { traceOf } from '../tracing/request-trace';
import { buildMessageSchema } from './schema';
import { formatError } from './graphql-errors';
import { queryLimitRules, type QueryLimits } from './query-limits';
import { IDEMPOTENCY_HEADER, rootResolvers, type GraphqlContext, type ResolverDeps } from './resolvers';

export interface GraphqlRouterDeps extends ResolverDeps {
  bodyLimit: string;
  limits: QueryLimits;
}

/**
 * POST/GET /graphql, GraphQL over HTTP through graphql-http (the spec's reference implementation).
 * Mounted behind the same authenticate + API rate limit as /v1. The JSON body is read by express
 * with the same size limit as REST (graphql-http would otherwise read it unbounded); a GET can only
 * query (a mutation over GET is 405).
 */
export function graphqlRouter(deps: GraphqlRouterDeps): Router {
  const router = Router();
  const schema = buildMessageSchema();
  const handler = createHandler<GraphqlContext>({
    schema,
    rootValue: rootResolvers(deps),
    validationRules: queryLimitRules(deps.limits),
    formatError,
    context: (req) => ({
      principal: principalOf(req.context.res),
      traceId: traceOf(req.context.res).traceId,
      idempotencyKeyHeader: req.raw.get(IDEMPOTENCY_HEADER),
    }),
  });
  // Only GET and POST are routed, so any other method gets the edge's 405 METHOD_NOT_ALLOWED (with
  // Allow) and a POST that is not JSON our 415: problem+json like the rest of the API, not
  // graphql-http's bodiless answers.
  router.get('/', refuseMutationOverGet, handler);
  router.post('/', (req, _res, next) => next(req.is('application/json') ? undefined : new UnsupportedMediaType()),
    express.json({ limit: deps.bodyLimit, type: 'application/json' }), handler);
  return router;
}

/**
 * GraphQL over HTTP: a mutation over GET is 405 (it must not change state on a safe method).
 * graphql-http answers that with a JSON body but no Content-Type; this answers it first as the
 * edge's 405 (`Allow: POST`). A document that does not parse is left to graphql-http (400, its errors).
 */
const refuseMutationOverGet: RequestHandler = (req, _res, next) => {
  const query = typeof req.query.query === 'string' ? req.query.query : undefined;
  if (query === undefined || !/\bmutation\b/.test(query)) return next();
  let operation: string | undefined;
  try {
    const name = typeof req.query.operationName === 'string' ? req.query.operationName : undefined;
    operation = getOperationAST(parse(query), name)?.operation;
  } catch {
    return next();
  }
  next(operation === 'mutation' ? new HttpProblem(405, 'METHOD_NOT_ALLOWED', 'Method not allowed', 'A mutation must be sent with POST', {}, { Allow: 'POST' }) : undefined);
};
