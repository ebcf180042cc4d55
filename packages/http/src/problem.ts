import type { ErrorRequestHandler, Response } from 'express';

/** RFC 9457 problem details. `code` is stable and documented in each service's error table. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  [extension: string]: unknown;
}

export const PROBLEM_TYPE_BASE = 'https://github.com/communication-aggregator/docs/errors#';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** An HTTP-facing error: every error class a service maps to a response extends this. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }

  toBody(): ProblemBody {
    return {
      type: PROBLEM_TYPE_BASE + this.code.toLowerCase(),
      title: this.title,
      status: this.status,
      code: this.code,
      ...(this.detail ? { detail: this.detail } : {}),
      ...this.extensions,
    };
  }
}

export function sendProblem(res: Response, problem: HttpProblem): void {
  for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).json(problem.toBody());
}

export const notFound = (what: string) => new HttpProblem(404, 'NOT_FOUND', 'Not found', `${what} was not found`);

/**
 * Last error handler: known problems become their problem+json; body-parser errors become 400/413;
 * anything else is a 500 that never leaks a stack trace or message.
 */
export function problemHandler(log: (err: unknown) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (err instanceof HttpProblem) return sendProblem(res, err);
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') {
      return sendProblem(res, new HttpProblem(400, 'MALFORMED_JSON', 'Malformed JSON', 'The request body is not valid JSON'));
    }
    if (e.type === 'entity.too.large') {
      return sendProblem(res, new HttpProblem(413, 'PAYLOAD_TOO_LARGE', 'Payload too large'));
    }
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      return sendProblem(res, new HttpProblem(415, 'UNSUPPORTED_ENCODING', 'Unsupported content encoding'));
    }
    log(err);
    sendProblem(res, new HttpProblem(500, 'INTERNAL', 'Internal error', 'An unexpected error occurred; it has been logged'));
  };
}
