// autocannon's per-connection client (autocannon/lib/httpClient.js, pinned with autocannon 8.0.0):
// the engine behind every autocannon connection. Its package ships no typings for it; these are
// the parts the users task relies on, as that file defines them.
declare module 'autocannon/lib/httpClient' {
  import { EventEmitter } from 'node:events';

  interface ClientOptions {
    protocol: 'http:' | 'https:';
    hostname: string;
    host: string;
    port: number;
    path: string;
    method: string;
    headers: Record<string, string>;
    body: string;
    /** Seconds. */
    timeout: number;
    pipelining?: 1;
    servername?: string;
    /** Called in the constructor, before the first connect. */
    setupClient?(client: AutocannonClient): void;
    /** Called with each response's body, after the 'response' event for it. */
    verifyBody?(body: string): boolean;
  }

  /**
   * Events: 'request' (a request was written), 'response' (status, bytes, ms), 'timeout',
   * 'connError' (error; the client reconnects right after unless destroyed), 'done' (destroyed).
   */
  class AutocannonClient extends EventEmitter {
    constructor(options: ClientOptions);
    destroyed: boolean;
    /** Resettable timeout of the request in flight (retimer). */
    timeoutTicker: { reschedule(ms: number): void };
    /** Requests written and not yet answered; emptied when autocannon drops the socket itself. */
    pipelinedRequests: { size(): number };
    /** Writes the next request; called on (re)connect and right after every response. */
    _doRequest(): void;
    destroy(): void;
  }

  export = AutocannonClient;
}
