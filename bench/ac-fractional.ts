/**
 * A reference for the accuracy check: autocannon as a library on the main thread, recording each
 * response's own fractional timing (the same `responseTime` the engine records) into a µs
 * HdrHistogram, with none of the engine around it (no CLI, no worker, no recorder, no intervals).
 * The raw autocannon CLI only reports whole milliseconds, too coarse for a ±0.5 ms comparison.
 *
 *   node --import tsx bench/ac-fractional.ts URL CONNECTIONS AMOUNT  ->  {"requests":N,"p50":ms,"p99":ms}
 */
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';

const [url, connections, amount] = process.argv.slice(2);
if (!url || !connections || !amount) {
  process.stderr.write('usage: ac-fractional.ts URL CONNECTIONS AMOUNT\n');
  process.exit(2);
}

const histogram = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 3_600_000_000,
  numberOfSignificantValueDigits: 3,
  autoResize: true,
  useWebAssembly: false,
});

const instance = autocannon(
  {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
    connections: Number(connections),
    amount: Number(amount),
    pipelining: 1,
    skipAggregateResult: true,
  },
  (err) => {
    if (err) {
      process.stderr.write(`ac-fractional: ${String(err)}\n`);
      process.exit(1);
    }
    const ms = (us: number): number => Math.round(us) / 1000;
    const pct = (p: number): number => ms(Math.min(histogram.getValueAtPercentile(p), histogram.maxValue));
    process.stdout.write(`${JSON.stringify({ requests: histogram.totalCount, p50: pct(50), p99: pct(99) })}\n`);
  },
);
instance.on('response', (_client, _status, _bytes, responseTime) => {
  histogram.recordValue(Math.max(1, Math.round(responseTime * 1000)));
});
