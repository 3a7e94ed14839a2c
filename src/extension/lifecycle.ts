import * as vscode from 'vscode';

/**
 * Something that owns resources: what it creates it registers, and one dispose() frees all of
 * it, in reverse order of creation.
 */
export abstract class Disposable implements vscode.Disposable {
  private readonly owned: vscode.Disposable[] = [];
  private disposed = false;

  protected register<T extends vscode.Disposable>(resource: T): T {
    if (this.disposed) resource.dispose();
    else this.owned.push(resource);
    return resource;
  }

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const resource of this.owned.splice(0).reverse()) {
      try {
        resource.dispose();
      } catch {
        // One resource failing to let go must not keep the others held.
      }
    }
  }
}
