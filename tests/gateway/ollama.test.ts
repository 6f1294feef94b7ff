import { afterEach, describe, expect, it } from 'vitest';
import { parseNdjson, parseSse } from '../../src/core/sse.ts';
import type { LiveSnapshot } from '../../src/gateway/live.ts';
import { closeAll, post, sim, startFleetGateway } from './helpers.ts';

afterEach(closeAll);

/** What an Ollama client does: POST, then read NDJSON line by line. */
async function ollamaLines(url: string, body: unknown): Promise<Array<Record<string, unknown>>> {
  const r = await post(url, body);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('application/x-ndjson');
  const out: Array<Record<string, unknown>> = [];
  for await (const line of parseNdjson(r.body!)) out.push(line as Record<string, unknown>);
  return out;
}

describe('Ollama API over the fleet', () => {
  it('/api/version and /api/tags', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'] })]);
    expect(await (await fetch(`${gw.url}/api/version`)).json()).toMatchObject({
      version: expect.any(String),
    });
    const tags = (await (await fetch(`${gw.url}/api/tags`)).json()) as { models: Array<{ name: string }> };
    expect(tags.models.map((m) => m.name)).toEqual(['llama3']);
  });

  it("/api/show gives a served model's details and 404 for another; /api/ps lists the models being served", async () => {
    const { gw, sim: s } = await startFleetGateway(
      [sim('a', { models: ['llama3'] }), sim('b', { models: ['qwen'] })],
      {
        mapWorker: (w, i) => ({ ...w, model: i === 0 ? 'llama3' : 'qwen' }),
        settings: { health_check_interval: 0.1 },
      },
    );
    const show = await post(`${gw.url}/api/show`, { model: 'llama3' });
    expect(show.status).toBe(200);
    const body = (await show.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ modelfile: '', template: '', capabilities: ['completion'], workers: ['a'] });
    expect(body['details']).toMatchObject({ format: '', family: '' });
    // Older clients send `name`.
    expect((await post(`${gw.url}/api/show`, { name: 'qwen' })).status).toBe(200);
    const missing = await post(`${gw.url}/api/show`, { model: 'mistral' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model 'mistral' not found" });
    const bad = await post(`${gw.url}/api/show`, {});
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('model');
    // A lookup is not an inference request: the dashboard's recent requests show only the chat.
    await post(`${gw.url}/api/chat`, {
      model: 'llama3',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: false,
    });
    const res = await fetch(`${gw.url}/fleet/events`);
    const first = await parseSse(res.body! as AsyncIterable<Uint8Array>).next();
    const snap = JSON.parse(String(first.value!.data)) as LiveSnapshot;
    expect(snap.recent.map((r) => r.path)).toEqual(['/api/chat']);
    await res.body!.cancel().catch(() => undefined);

    const ps = async () =>
      (
        (await (await fetch(`${gw.url}/api/ps`)).json()) as {
          models: Array<{ name: string; workers: string[] }>;
        }
      ).models;
    expect((await ps()).map((m) => m.name).sort()).toEqual(['llama3', 'qwen']);
    await s.workers[1]!.crash();
    await expect.poll(async () => (await ps()).map((m) => m.name), { timeout: 5000 }).toEqual(['llama3']);
  });

  it('/api/chat streams NDJSON: message lines, then done with counts', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'], outputTokens: 10 })]);
    const lines = await ollamaLines(`${gw.url}/api/chat`, {
      model: 'llama3',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
    });
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ model: 'llama3', done: true, done_reason: 'stop', eval_count: 10 });
    expect(last['prompt_eval_count']).toBeGreaterThan(0);
    expect(last['total_duration']).toBeGreaterThan(0);
    const parts = lines.slice(0, -1);
    expect(parts.length).toBeGreaterThan(0);
    expect(parts.every((l) => l['done'] === false)).toBe(true);
    const text = parts.map((l) => (l['message'] as { content: string }).content).join('');
    expect(text.trim().split(' ')).toHaveLength(10);
  });

  it('/api/generate, streamed and not, with num_predict', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'] })]);
    const lines = await ollamaLines(`${gw.url}/api/generate`, {
      model: 'llama3',
      prompt: 'Hi',
      options: { num_predict: 4 },
    });
    expect(
      lines
        .map((l) => l['response'])
        .join('')
        .trim()
        .split(' '),
    ).toHaveLength(4);
    const r = await post(`${gw.url}/api/generate`, {
      model: 'llama3',
      prompt: 'Hi',
      stream: false,
      options: { num_predict: 3 },
    });
    const b = (await r.json()) as { response: string; done: boolean; eval_count: number };
    expect(r.headers.get('x-fleet-worker')).toBe('a');
    expect(b.done).toBe(true);
    expect(b.eval_count).toBe(3);
    expect(b.response.split(' ')).toHaveLength(3);
  });

  it('errors in Ollama shape: unknown model 404, bad body 400', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['llama3'] })]);
    let r = await post(`${gw.url}/api/chat`, {
      model: 'mistral',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(r.status).toBe(404);
    const b = (await r.json()) as { error: string };
    expect(b.error).toContain('mistral');
    expect(b.error).toContain('llama3');
    r = await post(`${gw.url}/api/chat`, { model: 'llama3' });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: 'chat request: messages: required' });
  });

  it('/api/embed (one text or several, in order) and the older /api/embeddings', async () => {
    const { gw } = await startFleetGateway([sim('a', { models: ['nomic'] })]);
    let r = await post(`${gw.url}/api/embed`, { model: 'nomic', input: ['first text', 'second text'] });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-fleet-worker')).toBe('a');
    const b = (await r.json()) as { model: string; embeddings: number[][]; prompt_eval_count: number };
    expect(b.model).toBe('nomic');
    expect(b.embeddings).toHaveLength(2);
    expect(b.embeddings[0]!.length).toBeGreaterThan(0);
    expect(b.embeddings[0]).not.toEqual(b.embeddings[1]);
    expect(b.prompt_eval_count).toBeGreaterThan(0);

    r = await post(`${gw.url}/api/embed`, { model: 'nomic', input: 'second text' });
    const one = (await r.json()) as { embeddings: number[][] };
    expect(one.embeddings).toEqual([b.embeddings[1]]);

    r = await post(`${gw.url}/api/embeddings`, { model: 'nomic', prompt: 'first text' });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { embedding: number[] }).embedding).toEqual(b.embeddings[0]);

    r = await post(`${gw.url}/api/embed`, { model: 'nomic' });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: 'embed request: input: required' });
    const recent = gw.fleet.stats().workers[0]!.completed;
    expect(recent).toBe(3);
  });
});
