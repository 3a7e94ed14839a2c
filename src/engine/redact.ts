/** Keeps secrets out of result files, logs and the checklist. */

const SECRET_PARAM = /^(password|passwd|pwd|token|access_token|api[-_]?key|key|secret|sig|signature|auth)$/i;

/** A URL with its password and secret-looking query parameters replaced by `***`. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not a URL we can parse: keep only what is before any userinfo or query.
    return raw.replace(/\/\/[^@/]*@/, '//***@').replace(/\?.*$/, '?***');
  }
  if (url.password) url.password = '***';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, '***');
  }
  return url.toString().replace(/%2A%2A%2A/g, '***');
}

/** The secret values in a database URL (its password, raw and decoded), for redactText. */
export function secretsOf(dbUrl: string): string[] {
  try {
    const url = new URL(dbUrl);
    return url.password ? [url.password, decodeURIComponent(url.password)] : [];
  } catch {
    return [];
  }
}

/** Replaces every occurrence of the given secret values in free text. */
export function redactText(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s.length >= 4).reduce((acc, s) => acc.split(s).join('***'), text);
}
