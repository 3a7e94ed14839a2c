import type { TaskId } from '../shared/result';

/**
 * Every command, view and context key id, once. package.json must list the same ids; a unit
 * test holds the two in step.
 */
export const Commands = {
  runAll: 'phase3.runAll',
  cancelRun: 'phase3.cancelRun',
  openDashboard: 'phase3.openDashboard',
  createConfig: 'phase3.createConfig',
  startDemo: 'phase3.startDemoTarget',
  stopDemo: 'phase3.stopDemoTarget',
  compareWithBaseline: 'phase3.compareWithBaseline',
  exportReport: 'phase3.exportReport',
  showLog: 'phase3.showLog',
  refreshResults: 'phase3.refreshResults',
  writeChecklist: 'phase3.writeChecklist',
  // Result tree context menus.
  runTaskAgain: 'phase3.runTaskAgain',
  openRunInDashboard: 'phase3.openRunInDashboard',
  setBaseline: 'phase3.setBaseline',
  revealResultFile: 'phase3.revealResultFile',
} as const;

/** One palette command per task: a new task plugs in with one line here and in package.json. */
export const TaskCommands: Readonly<Partial<Record<TaskId, { id: string; title: string }>>> = {
  api: { id: 'phase3.runApi', title: 'Run API Load Test' },
  'usage-buffer': { id: 'phase3.runUsageBuffer', title: 'Run Usage Buffer Stress Test' },
  db: { id: 'phase3.runDb', title: 'Run Database Check' },
  users: { id: 'phase3.runUsers', title: 'Run Concurrent Users Soak' },
};

export const Views = {
  container: 'phase3',
  results: 'phase3.results',
} as const;

export const ContextKeys = {
  running: 'phase3.running',
  demoRunning: 'phase3.demoRunning',
} as const;

export const Settings = {
  section: 'phase3',
  configPath: 'configPath',
  checklistPath: 'checklistPath',
  confirmRemoteTargets: 'confirmRemoteTargets',
  previewChecklistEdits: 'previewChecklistEdits',
} as const;

export const StateKeys = {
  baselineRunId: 'phase3.baselineRunId',
} as const;

export const DASHBOARD_VIEW_TYPE = 'phase3.dashboard';
