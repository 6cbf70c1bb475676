/**
 * A request path fit for logs: signed link tokens (tracking `/t/<kind>/<token>`, unsubscribe
 * `/u/<token>`) and the query string are left out, since a token acts on a recipient's behalf.
 */
export function loggablePath(url: string): string {
  return url
    .split('?')[0]
    .replace(/^\/t\/([^/]+)\/[^/]+/, '/t/$1/…')
    .replace(/^\/u\/[^/]+/, '/u/…');
}
