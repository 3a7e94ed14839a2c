/**
 * The only module that knows which component library draws the controls. The toolkit
 * (@vscode/webview-ui-toolkit) is deprecated upstream; moving to @vscode-elements/elements
 * means rewriting this file alone: the rest of the page asks for a button, a tag or a
 * progress ring here and gets plain HTMLElements back.
 *
 * Under the webview's CSP (no inline styles) the toolkit's vscode-tag and vscode-badge cannot
 * be used: their shared template carries a `style` attribute, which the browser refuses (a CSP
 * violation each time the template is compiled). Tags and badges are plain spans styled by
 * media/dashboard.css instead. Buttons and the progress ring are clean.
 */
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeProgressRing } from '@vscode/webview-ui-toolkit';

let registered = false;

/** Defines the custom elements; call once before creating any control. */
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeProgressRing());
}

export type ButtonKind = 'primary' | 'secondary';

export function createButton(label: string, kind: ButtonKind, onClick: () => void): HTMLElement {
  const button = document.createElement('vscode-button');
  button.setAttribute('appearance', kind);
  button.textContent = label;
  button.addEventListener('click', () => {
    if (!button.hasAttribute('disabled')) onClick();
  });
  return button;
}

export function setButtonEnabled(button: HTMLElement, enabled: boolean): void {
  button.toggleAttribute('disabled', !enabled);
}

/** A short status word, e.g. `passed`. */
export function createTag(text: string): HTMLElement {
  const tag = document.createElement('span');
  tag.className = 'p3-tag';
  tag.textContent = text;
  return tag;
}

/** A count, e.g. `4/5`. */
export function createBadge(text: string): HTMLElement {
  const badge = document.createElement('span');
  badge.className = 'p3-badge';
  badge.textContent = text;
  return badge;
}

/** An indeterminate spinner for work in progress. */
export function createProgressRing(label: string): HTMLElement {
  const ring = document.createElement('vscode-progress-ring');
  ring.setAttribute('aria-label', label);
  return ring;
}
