import { request, type Agent } from 'node:http';

/**
 * A `fetch` for `HttpApi` that goes through a given `http.Agent`, so API calls leave from the agent's
 * source address (the global fetch cannot choose one without undici's own Agent). Plain HTTP only, which
 * is all a loopback cluster speaks; enough of fetch for HttpApi: method, headers, a string body, and a
 * Response with status and text.
 */
export function agentFetch(agent: Agent, timeoutMs = 30_000): typeof fetch {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.protocol !== 'http:') {
        reject(new Error(`agentFetch: only http: URLs, got ${url.protocol}`));
        return;
      }
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((value, key) => (headers[key] = value));
      const body = init?.body;
      if (body !== undefined && body !== null && typeof body !== 'string') {
        reject(new Error('agentFetch: only string bodies'));
        return;
      }
      if (body !== undefined && body !== null) headers['content-length'] = String(Buffer.byteLength(body));
      const req = request(url, { method: init?.method ?? 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [key, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') responseHeaders.set(key, value);
          }
          const status = res.statusCode ?? 0;
          // A Response cannot carry a body with these statuses.
          const empty = status === 204 || status === 304;
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers: responseHeaders }));
        });
      });
      req.on('error', reject);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url.pathname}`)));
      req.end(body ?? undefined);
    });
}
