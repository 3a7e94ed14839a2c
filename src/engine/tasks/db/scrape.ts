/** Fetching metrics URLs: a failure is returned, never thrown, so the run goes on. */
import { errorMessage } from '../../errors';
import { redactUrl } from '../../redact';
import { parseMetricsBody } from './prometheus';
import type { Scrape } from './compute';

export type ScrapeOutcome = { ok: true; scrape: Scrape; format: 'prometheus' | 'json'; skipped: number } | { ok: false; url: string; error: string };

/**
 * The URL actually read: a bare base (`http://node:9000`) gets `defaultPath`; a URL with a path
 * (`…/metrics`, `…/prometheus-metrics`) is read as given.
 */
export function metricsEndpoint(base: string, defaultPath: string): string {
  try {
    const url = new URL(base);
    if (url.pathname === '/' || url.pathname === '') url.pathname = defaultPath;
    return url.toString();
  } catch {
    return base;
  }
}

export async function scrape(url: string, timeoutMs: number, signal?: AbortSignal): Promise<ScrapeOutcome> {
  const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
  try {
    const res = await fetch(url, { signal: AbortSignal.any(signals), headers: { accept: 'text/plain, application/json' } });
    const body = await res.text();
    if (!res.ok) return { ok: false, url: redactUrl(url), error: `HTTP ${res.status}` };
    const parsed = parseMetricsBody(body);
    if (parsed.samples.length === 0) return { ok: false, url: redactUrl(url), error: 'no metrics in the response' };
    return { ok: true, scrape: { url: redactUrl(url), atMs: Date.now(), samples: parsed.samples }, format: parsed.format, skipped: parsed.skipped };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    const message = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${errorMessage(err)}${cause}`;
    return { ok: false, url: redactUrl(url), error: message };
  }
}
