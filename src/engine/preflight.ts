import * as http from 'node:http';
import * as https from 'node:https';
import { InputError } from './errors';
import type { HttpRequestSpec } from './load/target';

export interface PreflightReport {
  status: number;
  latencyMs: number;
  /** Problems worth a warning that do not stop the run (a 5xx, GraphQL field errors). */
  warnings: string[];
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running?)',
  ENOTFOUND: 'DNS lookup failed (no such host)',
  EAI_AGAIN: 'DNS lookup failed (temporary failure)',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed by the server',
};

function reasonFor(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code) || /certificate|ssl|tls/i.test(err.message)) {
    return `TLS error: ${err.message}`;
  }
  return err.message || code || 'request failed';
}

/** The first GraphQL error message of a body, if it has one. */
function graphqlErrorOf(body: string): { message: string; requestError: boolean } | null {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ message?: string }>; data?: unknown };
    if (!Array.isArray(parsed.errors) || parsed.errors.length === 0) return null;
    // Per the GraphQL spec a request error (parse, validation) has no `data` entry at all.
    return { message: String(parsed.errors[0]?.message ?? 'unknown error'), requestError: !('data' in parsed) || parsed.data === null };
  } catch {
    return null;
  }
}

/**
 * One real request before the load. An unreachable target, a DNS or TLS failure, a 4xx (404, 401,
 * a GraphQL request error) ends the run before any load is sent, with one line saying why.
 */
export function preflight(request: HttpRequestSpec, signal?: AbortSignal): Promise<PreflightReport> {
  const url = new URL(request.url);
  const transport = url.protocol === 'https:' ? https : http;
  const where = `${request.method} ${request.url}`;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = transport.request(url, {
      method: request.method,
      headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
      timeout: request.timeoutMs,
      signal,
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('no answer within the timeout'), { code: 'PREFLIGHT_TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'PREFLIGHT_TIMEOUT' ? `no answer within ${request.timeoutMs} ms` : reasonFor(err);
      reject(new InputError(`target unreachable: ${where}: ${reason}`));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString('utf8');
        const latencyMs = performance.now() - started;
        const gqlError = graphqlErrorOf(body);
        if (status >= 400 && status < 500) {
          const detail = gqlError ? `: ${gqlError.message}` : '';
          reject(new InputError(`target answered the pre-flight request with HTTP ${status} ${res.statusMessage ?? ''}`.trimEnd() + ` (${where})${detail}`));
          return;
        }
        if (status >= 200 && status < 300 && gqlError?.requestError) {
          reject(new InputError(`the GraphQL request is invalid: ${gqlError.message} (${where})`));
          return;
        }
        const warnings: string[] = [];
        if (status >= 500) warnings.push(`pre-flight request got HTTP ${status}: the load goes on and counts such answers as errors`);
        else if (gqlError) warnings.push(`pre-flight response carries GraphQL errors: ${gqlError.message}`);
        resolve({ status, latencyMs, warnings });
      });
    });
    req.end(request.body);
  });
}
