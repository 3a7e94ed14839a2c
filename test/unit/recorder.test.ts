import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadRecorder, hasGraphqlErrors } from '../../src/engine/load/recorder';

test('every request has exactly one outcome and the counts add up', () => {
  const r = new LoadRecorder({ corrected: false });
  r.response(200, 1, false);
  r.response(200, 1, true);
  r.response(500, 1, false);
  r.response(500, 1, true); // a 500 with GraphQL errors is a non-2xx, counted once
  r.timeout();
  r.connectionError();
  const c = r.counts;
  assert.deepEqual(c, { requests: 6, succeeded: 1, non2xx: 2, graphqlErrors: 1, timeouts: 1, connectionErrors: 1 });
  assert.equal(r.errors, c.non2xx + c.graphqlErrors + c.timeouts + c.connectionErrors);
  assert.equal(c.requests, c.succeeded + r.errors);
  r.destroy();
});

test('intervals carry their own counts and percentiles and merge into the total', () => {
  let now = 0;
  const r = new LoadRecorder({ corrected: true, now: () => now });
  for (let i = 0; i < 100; i++) r.response(200, 2, false, 3);
  now = 1000;
  const first = r.closeInterval();
  assert.equal(first.point.requests, 100);
  assert.equal(first.point.rps, 100);
  assert.ok(Math.abs((first.point.p50 ?? 0) - 2) <= 0.002);
  assert.ok(Math.abs((first.point.correctedP99 ?? 0) - 3) <= 0.003);
  assert.ok(first.correctedHistogram);
  for (let i = 0; i < 50; i++) r.response(200, 10, false, 10);
  now = 1500;
  const second = r.closeInterval();
  assert.equal(second.point.requests, 50);
  assert.equal(second.point.rps, 100);
  assert.ok(Math.abs((second.point.p50 ?? 0) - 10) <= 0.01);
  assert.equal(r.latency()?.count, 150);
  r.destroy();
});

test('GraphQL errors: a non-empty errors array, nothing else', () => {
  assert.equal(hasGraphqlErrors('{"data":{"__typename":"Query"}}'), false);
  assert.equal(hasGraphqlErrors('{"data":null,"errors":[{"message":"boom"}]}'), true);
  assert.equal(hasGraphqlErrors('{"data":{"x":1},"errors":[]}'), false);
  assert.equal(hasGraphqlErrors('{"data":{"text":"the word \\"errors\\" in data"}}'), false);
  assert.equal(hasGraphqlErrors('<html>"errors"</html>'), false);
});
