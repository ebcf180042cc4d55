import type { Response } from 'express';
import { HttpProblem, sendProblem } from '@ca/http';
import type { OtlpFormat, Signal } from './decode-request';
import { OTLP_TYPES } from './otlp-proto';

/**
 * Writes OTLP/HTTP responses in the request's encoding: ExportXServiceResponse on success (with
 * partial_success when records were rejected), google.rpc.Status for protobuf errors and
 * problem+json for JSON errors. Retry-After travels as a header either way.
 */
export function sendExportSuccess(res: Response, format: OtlpFormat, signal: Signal, rejected: number, reasons: string[]): void {
  const partial = rejected > 0
    ? signal === 'traces'
      ? { rejectedSpans: rejected, errorMessage: reasons.join('; ') }
      : { rejectedLogRecords: rejected, errorMessage: reasons.join('; ') }
    : undefined;
  const body = partial ? { partialSuccess: partial } : {};
  if (format === 'json') {
    res.status(200).json(body);
    return;
  }
  const type = signal === 'traces' ? OTLP_TYPES.traceResponse : OTLP_TYPES.logsResponse;
  res.status(200).type('application/x-protobuf').send(Buffer.from(type.encode(type.fromObject(body)).finish()));
}

/** gRPC status codes that match the HTTP statuses this receiver uses (google.rpc.Code). */
const RPC_CODE: Record<number, number> = { 400: 3, 413: 3, 415: 3, 404: 5, 429: 8, 503: 14, 500: 13 };

export function sendExportError(res: Response, format: OtlpFormat | null, problem: HttpProblem): void {
  if (format !== 'protobuf') {
    sendProblem(res, problem);
    return;
  }
  for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
  const status = OTLP_TYPES.rpcStatus.fromObject({ code: RPC_CODE[problem.status] ?? 2, message: problem.detail ?? problem.title });
  res.status(problem.status).type('application/x-protobuf').send(Buffer.from(OTLP_TYPES.rpcStatus.encode(status).finish()));
}
