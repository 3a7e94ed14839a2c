/**
 * The standard Phase 3 section, in the shape of the team's checklist: added when a checklist has
 * none, and the whole of a new one. Every item here is matched by the table in match.ts.
 */
const PHASE3_LINES = [
  '## Phase 3: Performance Testing (Day 2-3)',
  '',
  '### Usage Buffer Performance',
  '',
  '- [ ] Test script executed successfully',
  '- [ ] All 10 tests passing',
  '- [ ] Average latency: **\\_** ms (target: < 5ms)',
  '- [ ] P99 latency: **\\_** ms (target: < 10ms)',
  '- [ ] 100% success rate',
  '- [ ] No lost updates',
  '- [ ] Atomic upserts working correctly',
  '- [ ] No errors during 100-iteration test',
  '',
  '**Test Results**:',
  '',
  '```',
  'Average latency: _____ ms',
  'P99 latency: _____ ms',
  'Errors: _____',
  '```',
  '',
  '### API Performance',
  '',
  '- [ ] P95 latency: **\\_** ms (target: < 100ms)',
  '- [ ] P99 latency: **\\_** ms (target: < 200ms)',
  '- [ ] Error rate: **\\_**% (target: < 0.1%)',
  '- [ ] Concurrent connections tested: **\\_**',
  '- [ ] No timeouts during load test',
  '',
  '### YugabyteDB Performance',
  '',
  '- [ ] P99 read latency: **\\_** ms (target: < 10ms)',
  '- [ ] P99 write latency: **\\_** ms (target: < 20ms)',
  '- [ ] CPU usage: **\\_**% (target: < 70%)',
  '- [ ] Memory usage: **\\_**% (target: < 80%)',
  '- [ ] Disk usage: **\\_**% (target: < 75%)',
  '- [ ] No query timeouts',
  '',
  '**Performance Screenshot**: **\\_**',
];

/** The section, each line ended by `eol`. */
export function standardPhase3(eol: string): string {
  return PHASE3_LINES.map((l) => l + eol).join('');
}

export function newChecklist(): string {
  return `# Mainnet Migration Checklist\n\n${standardPhase3('\n')}`;
}
