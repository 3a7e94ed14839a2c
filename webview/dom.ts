/** Small DOM helpers shared by the page and the charts. */

/**
 * Puts `element` right after the elements already placed this render, moving nothing that is
 * already there: moving a chart would make the browser lay it out again.
 */
export function placeInOrder(parent: HTMLElement, element: HTMLElement, placed: HTMLElement[]): void {
  const previous = placed[placed.length - 1];
  const expected = previous ? previous.nextElementSibling : parent.firstElementChild;
  if (expected !== element) parent.insertBefore(element, expected);
  placed.push(element);
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}
