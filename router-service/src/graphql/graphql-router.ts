import express, { Router } from 'express';
import { createHandler } from 'graphql-http/lib/use/express';
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
 * query (graphql-http answers a mutation over GET with 405).
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
  router.use(express.json({ limit: deps.bodyLimit, type: ['application/json', 'application/graphql-response+json'] }));
  router.all('/', handler);
  return router;
}
