import { afterEach, describe, expect, it } from 'vitest';
import { CHAT, closeAll, post, sim, startFleetGateway } from './helpers.ts';

afterEach(closeAll);

const APP = 'http://localhost:3000';

/** What a browser sends before a cross-origin POST with a key and a JSON body. */
const preflight = (url: string, origin: string) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('CORS for browser apps', () => {
  it('an allowed origin: preflight 204 without the key, then its headers on answers and errors', async () => {
    const { gw } = await startFleetGateway([sim('a')], {
      gateway: { corsOrigins: [APP, 'https://chat.example'], apiKeys: ['k1'] },
    });
    const pre = await preflight(`${gw.url}/v1/chat/completions`, APP);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(APP);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(pre.headers.get('vary')).toBe('origin');

    const ok = await post(`${gw.url}/v1/chat/completions`, CHAT, { origin: APP, authorization: 'Bearer k1' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-expose-headers')).toContain('x-fleet-worker');
    expect(ok.headers.get('x-fleet-worker')).toBe('a');
    // An error keeps them, so the page can read why (here: no key).
    const denied = await post(`${gw.url}/v1/chat/completions`, CHAT, { origin: APP });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe(APP);
    // A stream too.
    const stream = await post(
      `${gw.url}/v1/chat/completions`,
      { ...CHAT, stream: true },
      {
        origin: 'https://chat.example',
        authorization: 'Bearer k1',
      },
    );
    expect(stream.headers.get('access-control-allow-origin')).toBe('https://chat.example');
    expect(await stream.text()).toContain('data: [DONE]');
  });

  it('another origin gets no CORS headers, and its preflight is not answered as one', async () => {
    const { gw } = await startFleetGateway([sim('a')], { gateway: { corsOrigins: [APP] } });
    const pre = await preflight(`${gw.url}/v1/chat/completions`, 'http://evil.example');
    expect(pre.status).toBe(404);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const r = await post(`${gw.url}/v1/chat/completions`, CHAT, { origin: 'http://evil.example' });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('off by default; * allows any origin', async () => {
    const { gw } = await startFleetGateway([sim('a')]);
    const pre = await preflight(`${gw.url}/v1/models`, APP);
    expect(pre.status).toBe(404);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const any = await startFleetGateway([sim('b')], { gateway: { corsOrigins: ['*'] } });
    const r = await fetch(`${any.gw.url}/v1/models`, { headers: { origin: 'http://anything.example:8000' } });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('vary')).toBeNull();
  });

  it('refuses an origin that is not one, saying what is expected', async () => {
    for (const bad of ['localhost:3000', 'http://localhost:3000/app', 'not a url']) {
      const err = await startFleetGateway([sim('a')], { gateway: { corsOrigins: [bad] } }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(`"${bad}"`);
      expect((err as Error).message).toContain('http://localhost:3000');
    }
  });
});
