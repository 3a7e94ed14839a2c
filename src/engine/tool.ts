import { version } from '../../package.json';

export const TOOL = { name: 'phase3-perf', version } as const;
