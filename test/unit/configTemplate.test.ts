import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configTemplate } from '../../src/extension/configTemplate';
import { parseJson, validateConfig } from '../../src/engine/config';

test('the commented config that Create Config writes is valid for the CLI and the extension', () => {
  const text = configTemplate('http://127.0.0.1:4000/graphql');
  assert.match(text, /\/\/ /, 'it explains itself in comments');
  const config = validateConfig(parseJson(text, 'phase3.config.json'), 'phase3.config.json');
  assert.equal(config.target?.url, 'http://127.0.0.1:4000/graphql');
  assert.equal(config.api?.connections, 100);
});
