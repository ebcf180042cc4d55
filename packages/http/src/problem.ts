import type { Response } from 'express';

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
