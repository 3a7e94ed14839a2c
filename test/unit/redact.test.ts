import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactText, redactUrl } from '../../src/engine/redact';

test('passwords and secret query parameters are replaced', () => {
  assert.equal(redactUrl('postgres://app:s3cret@db.example:5433/prod?sslmode=require'), 'postgres://app:***@db.example:5433/prod?sslmode=require');
  assert.equal(redactUrl('https://api.example/graphql?token=abc&x=1'), 'https://api.example/graphql?token=***&x=1');
  assert.equal(redactUrl('http://127.0.0.1:4000/graphql'), 'http://127.0.0.1:4000/graphql');
});

test('known secret values vanish from free text', () => {
  assert.equal(redactText('Bearer abcdef123 was sent', ['abcdef123']), 'Bearer *** was sent');
});
