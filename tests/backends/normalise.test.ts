import { describe, expect, it } from 'vitest';
import {
  normaliseChunk,
  normaliseCompletion,
  normaliseEmbedding,
  normaliseModelList,
  normaliseUsage,
  type NormaliseContext,
} from '../../src/backends/normalise.ts';
import { metricSum, parsePrometheus } from '../../src/backends/prometheus.ts';
import { FleetError } from '../../src/core/errors.ts';

const ctx: NormaliseContext = { workerId: 'w', model: 'asked', nowSec: 42, newId: () => 'gen-1' };

function malformed(f: () => unknown): FleetError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FleetError);
    expect((e as FleetError).code).toBe('FLEET_UPSTREAM_MALFORMED');
    return e as FleetError;
  }
  throw new Error('expected FLEET_UPSTREAM_MALFORMED');
}

describe('model lists', () => {
  it('reads data[] (vLLM max_model_len, llama.cpp meta.n_ctx), else llama.cpp models[]', () => {
    expect(
      normaliseModelList(
        {
          data: [
            { id: 'a', object: 'model', max_model_len: 4096, owned_by: 'vllm' },
            { id: 'b', meta: { n_ctx: 512 } },
            { nope: 1 },
          ],
        },
        ctx,
      ),
    ).toEqual([
      { id: 'a', object: 'model', owned_by: 'vllm', context_length: 4096 },
      { id: 'b', object: 'model', context_length: 512 },
    ]);
    expect(
      normaliseModelList({ models: [{ name: 'n1', model: 'n1' }, { name: 'n2' }] }, ctx).map((m) => m.id),
    ).toEqual(['n1', 'n2']);
    expect(malformed(() => normaliseModelList({ object: 'list' }, ctx)).message).toContain(
      'neither `data` nor `models`',
    );
    malformed(() => normaliseModelList('text', ctx));
  });
});

describe('usage', () => {
  it('fills total_tokens and keeps cached tokens; ignores what is not usage', () => {
    expect(normaliseUsage({ prompt_tokens: 3, completion_tokens: 4 })).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
    });
    expect(
      normaliseUsage({
        prompt_tokens: 3,
        completion_tokens: 4,
        total_tokens: 9,
        prompt_tokens_details: { cached_tokens: 2 },
        completion_tokens_details: { reasoning_tokens: 3, audio_tokens: 0 },
      }),
    ).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 9,
      prompt_tokens_details: { cached_tokens: 2 },
      completion_tokens_details: { reasoning_tokens: 3 },
    });
    expect(normaliseUsage(null)).toBeUndefined();
    expect(normaliseUsage({})).toBeUndefined();
  });
});

describe('chunks and completions', () => {
  it('fills id, created and model when the server leaves them out', () => {
    const c = normaliseChunk({ choices: [{ delta: { content: 'x' } }] }, ctx);
    expect(c).toEqual({
      id: 'gen-1',
      object: 'chat.completion.chunk',
      created: 42,
      model: 'asked',
      choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }],
    });
  });

  it('accepts a usage-only chunk without choices', () => {
    const c = normaliseChunk({ id: 'i', usage: { prompt_tokens: 1, completion_tokens: 1 } }, ctx);
    expect(c.choices).toEqual([]);
    expect(c.usage?.total_tokens).toBe(2);
  });

  it('rejects chunks and completions of the wrong shape', () => {
    malformed(() => normaliseChunk([1, 2], ctx));
    malformed(() => normaliseChunk({ choices: 'x' }, ctx));
    malformed(() => normaliseCompletion({ id: 'x' }, ctx));
    malformed(() => normaliseEmbedding({ data: [{ embedding: ['a'] }] }, ctx));
    malformed(() => normaliseEmbedding({ data: [{ embedding: 'AAA' }] }, ctx)); // 2 bytes: not float32s
  });

  it('keeps the log probabilities of a choice, whole and streamed', () => {
    const logprobs = { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }] };
    const whole = normaliseCompletion(
      { choices: [{ message: { content: 'Hi' }, logprobs, finish_reason: 'stop' }] },
      ctx,
    );
    expect(whole.choices[0]!.logprobs).toEqual(logprobs);
    expect(
      normaliseChunk({ choices: [{ delta: { content: 'Hi' }, logprobs }] }, ctx).choices[0]!.logprobs,
    ).toEqual(logprobs);
    // null (what servers send when none were asked for) is left out, as before.
    expect('logprobs' in normaliseChunk({ choices: [{ delta: {}, logprobs: null }] }, ctx).choices[0]!).toBe(
      false,
    );
  });

  it('decodes an embedding a server sent as base64 float32 bytes', () => {
    const floats = [0.5, -0.25, 1];
    const b64 = Buffer.from(Float32Array.from(floats).buffer).toString('base64');
    expect(normaliseEmbedding({ data: [{ embedding: b64 }] }, ctx).data[0]!.embedding).toEqual(floats);
  });

  it('keeps reasoning and tool calls of a message, and a null content', () => {
    const c = normaliseCompletion(
      {
        choices: [
          {
            message: { role: 'assistant', content: null, reasoning_content: 'r', tool_calls: [{ id: 't' }] },
            finish_reason: 'tool_calls',
          },
        ],
      },
      ctx,
    );
    expect(c.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: null, reasoning: 'r', tool_calls: [{ id: 't' }] },
      finish_reason: 'tool_calls',
    });
  });
});

describe('Prometheus text', () => {
  it('reads samples with labels and sums a gauge over label sets', () => {
    const text = [
      '# HELP vllm:num_requests_running Number of requests in model execution batches.',
      '# TYPE vllm:num_requests_running gauge',
      'vllm:num_requests_running{engine="0",model_name="m"} 3.0',
      'vllm:num_requests_running{engine="1",model_name="m"} 2',
      'vllm:num_requests_waiting{model_name="a \\"quoted\\" name"} 7',
      'llamacpp:requests_deferred 4',
      'garbage line',
      'x NaN',
    ].join('\n');
    const samples = parsePrometheus(text);
    expect(metricSum(samples, 'vllm:num_requests_running')).toBe(5);
    expect(metricSum(samples, 'llamacpp:requests_deferred')).toBe(4);
    expect(metricSum(samples, 'absent')).toBeUndefined();
    expect(samples.find((s) => s.name === 'vllm:num_requests_waiting')?.labels).toEqual({
      model_name: 'a "quoted" name',
    });
  });
});
