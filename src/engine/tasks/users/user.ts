/**
 * One virtual user on autocannon's own connection client (autocannon/lib/httpClient: a raw
 * keep-alive socket, a prebuilt request buffer, http-parser-js; the engine behind each autocannon
 * connection). Measured here, that client answers about 3.7 times the requests per CPU-second of
 * Node's http module on the same 200 keep-alive connections, which is what lets one thread carry
 * hundreds of users.
 *
 * What a user adds to autocannon's connection: think time. autocannon writes the next request the
 * moment an answer completes, from the client's `_doRequest`, which it also calls on every
 * (re)connect; the 'response' event comes just before the call after an answer, so a flag tells
 * the two apart. After an answer the user waits `thinkTimeMs` first, with the request timeout
 * pushed past the pause so that thinking never counts as a timeout. A user asked to leave does so
 * after its answer arrives: its in-flight request is never dropped.
 *
 * Coordinated omission, with think time: a user means to send request n+1 `thinkTimeMs` after it
 * sent request n (as if the server had answered at once). The corrected latency of a request is
 * measured from that intended send time to its answer, so a slow answer also counts against the
 * request it delayed; the user's first request is measured from its actual send. A timeout is
 * recorded in the corrected view at its full wait.
 *
 * Outcomes: exactly one per request written. A connection error with a request in flight counts
 * once, and so does a connection the server closes with a request on it; then the user waits at
 * least 100 ms (its think time if longer) and reconnects on a new client, so a server that is down
 * is not hammered in a spin. A timeout is autocannon's; the user then thinks as after an answer
 * and goes on with a new client (autocannon's parser may still hold half of the late answer). An
 * answer with `Connection: close` sends the next request on a new connection.
 */
import AutocannonClient from 'autocannon/lib/httpClient';
import type { HttpRequestSpec } from '../../load/target';
import { hasGraphqlErrors } from '../../load/recorder';

/** What a user reports to (a LoadRecorder fits). */
export interface UserRecorder {
  response(statusCode: number, latencyMs: number, hasGraphqlErrors: boolean, correctedMs?: number): void;
  timeout(correctedMs?: number): void;
  connectionError(): void;
}

/** Everything a user needs to know; serializable (it crosses into the load workers). */
export interface UserTarget {
  request: HttpRequestSpec;
  thinkTimeMs: number;
}

const RECONNECT_PAUSE_MS = 100;

type ClientOptions = ConstructorParameters<typeof AutocannonClient>[0];

/** autocannon's client options for a request (it wants the parts of the URL, not the URL). */
export function clientOptions(request: HttpRequestSpec): Omit<ClientOptions, 'setupClient' | 'verifyBody'> {
  const url = new URL(request.url);
  const secure = url.protocol === 'https:';
  return {
    protocol: secure ? 'https:' : 'http:',
    // net.connect wants an IPv6 address without its brackets; the Host header keeps them.
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    host: url.host,
    port: url.port ? Number(url.port) : secure ? 443 : 80,
    path: `${url.pathname}${url.search}`,
    method: request.method,
    headers: request.headers,
    body: request.body,
    timeout: request.timeoutMs / 1000,
    pipelining: 1,
  };
}

interface Flight {
  sentAt: number;
  intended: number;
}

export class VirtualUser {
  /** Settles when the user is gone: left after its answer, or stopped. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private client: AutocannonClient | null = null;
  private leaving = false;
  private ended = false;
  private pause: NodeJS.Timeout | null = null;
  /** The request on the wire, if any. */
  private flight: Flight | null = null;
  /** The answered request whose body autocannon hands to verifyBody next. */
  private answered: { status: number; ms: number; correctedMs?: number } | null = null;
  /** The flight that autocannon gave up on at a timeout (it reconnects, then says 'timeout'). */
  private timedOut: Flight | null = null;
  private nextIntended: number | null = null;

  /** `startAfterMs`: arrive that much later (users moved together spread their first requests). */
  constructor(
    private readonly options: ReturnType<typeof clientOptions>,
    private readonly thinkTimeMs: number,
    private readonly recorder: UserRecorder,
    startAfterMs = 0,
  ) {
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    if (startAfterMs > 0) this.schedule(startAfterMs);
    else this.connect();
  }

  /** Leave once the request in flight (if any) is answered. */
  leave(): void {
    this.leaving = true;
    if (!this.flight) this.end();
  }

  /** Stop now: a request in flight is dropped, not recorded (the run is over or cancelled). */
  stop(): void {
    this.leaving = true;
    this.flight = null;
    this.end();
  }

  private connect(): void {
    this.client = new AutocannonClient({
      ...this.options,
      setupClient: (client) => this.attach(client),
      verifyBody: (body) => {
        this.recordAnswer(body);
        return true;
      },
    });
  }

  private attach(client: AutocannonClient): void {
    const send = AutocannonClient.prototype._doRequest;
    let afterResponse = false;
    client.on('request', () => {
      const now = performance.now();
      this.flight = { sentAt: now, intended: this.nextIntended ?? now };
      this.nextIntended = now + this.thinkTimeMs;
    });
    client.on('response', (status: number, _bytes: number, ms: number) => {
      const flight = this.flight;
      this.flight = null;
      afterResponse = true;
      const correctedMs = this.thinkTimeMs > 0 && flight ? ms + Math.max(0, flight.sentAt - flight.intended) : undefined;
      this.answered = { status, ms, correctedMs };
    });
    client.on('timeout', () => {
      const lost = this.timedOut;
      this.timedOut = null;
      this.recorder.timeout(this.thinkTimeMs > 0 && lost ? performance.now() - lost.intended : undefined);
    });
    client.on('connError', () => {
      // Destroyed at once, autocannon does not reconnect (it checks right after this event).
      if (this.client !== client) return client.destroy();
      if (this.flight) {
        this.flight = null;
        this.recorder.connectionError();
      }
      this.replace(client, Math.max(this.thinkTimeMs, RECONNECT_PAUSE_MS));
    });
    // The answer's headers come before its end: whether the server keeps the connection open.
    let serverCloses = false;
    client.on('headers', (info: { shouldKeepAlive?: boolean }) => {
      serverCloses = info.shouldKeepAlive === false;
    });
    client._doRequest = () => {
      const answered = afterResponse;
      afterResponse = false;
      if (!answered && this.flight) {
        const lost = this.flight;
        this.flight = null;
        if (client.pipelinedRequests.size() > 0) {
          // The server closed the connection with the request on it. autocannon would resend on
          // the new socket with the unanswered request still queued (and time every later answer
          // from it): the request counts as a connection error and a new client takes over.
          this.recorder.connectionError();
          return this.replace(client, Math.max(this.thinkTimeMs, RECONNECT_PAUSE_MS));
        }
        // autocannon timed the request out and says 'timeout' right after this. Its parser may
        // hold half an answer, which would swallow the next one: a new client after the pause.
        this.timedOut = lost;
        return this.replace(client, this.thinkTimeMs);
      }
      if (answered && serverCloses) {
        // The answer said Connection: close: the next request goes on a new connection, never
        // onto the socket the server is closing.
        serverCloses = false;
        return this.replace(client, this.thinkTimeMs);
      }
      if (this.leaving) return this.end();
      // A reconnect during the pause (the server closed an idle keep-alive socket): the pause sends.
      if (this.pause) return;
      if (!answered || this.thinkTimeMs <= 0) return send.call(client);
      client.timeoutTicker.reschedule(this.thinkTimeMs + this.options.timeout * 1000);
      this.schedule(this.thinkTimeMs);
    };
  }

  /** Drops `client` (its socket and whatever it was parsing); a new one sends after `pauseMs`. */
  private replace(client: AutocannonClient, pauseMs: number): void {
    if (this.client === client) this.client = null;
    client.destroy();
    if (this.leaving) return this.end();
    if (!this.pause) this.schedule(pauseMs);
  }

  /** Waits, then sends the next request (on a new client if the last one is gone). */
  private schedule(ms: number): void {
    this.pause = setTimeout(() => {
      this.pause = null;
      if (this.leaving) return this.end();
      const client = this.client;
      if (!client || client.destroyed) this.connect();
      else AutocannonClient.prototype._doRequest.call(client);
    }, ms);
  }

  private recordAnswer(body: string): void {
    const answer = this.answered;
    this.answered = null;
    if (answer) this.recorder.response(answer.status, answer.ms, hasGraphqlErrors(body), answer.correctedMs);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.pause) clearTimeout(this.pause);
    this.pause = null;
    this.client?.destroy();
    this.client = null;
    this.resolveDone();
  }
}
