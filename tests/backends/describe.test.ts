/**
 * Backend.describe against servers that answer the way real ones do (shapes from LM Studio's
 * and Ollama's docs and bug reports), beyond what the simulator sends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/index.ts';
import { json, startServer, workerAt, type TestServer } from './helpers.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(path: string, body: unknown): Promise<TestServer> {
  const s = await startServer((req, res) =>
    req.path === path ? json(res, 200, body) : json(res, 404, { error: 'not found' }),
  );
  servers.push(s);
  return s;
}

describe('Backend.describe', () => {
  it('LM Studio: vision and tools from capabilities, embedding models by type, nothing from an older server', async () => {
    const s = await serve('/api/v1/models', {
      models: [
        {
          type: 'llm',
          publisher: 'google',
          key: 'google/gemma-3-4b',
          architecture: 'gemma3',
          quantization: { name: '4bit', bits_per_weight: 4 },
          params_string: '4B',
          loaded_instances: [],
          max_context_length: 131072,
          format: 'mlx',
          capabilities: { vision: true, trained_for_tool_use: false },
        },
        {
          type: 'embedding',
          key: 'text-embedding-nomic-embed-text-v1.5',
          architecture: 'nomic-bert',
          max_context_length: 2048,
          format: 'gguf',
          capabilities: {},
        },
      ],
    });
    const b = createBackend(workerAt(s.url, { type: 'lm_studio', model: 'google/gemma-3-4b' }));
    expect(await b.describe('google/gemma-3-4b')).toEqual({
      capabilities: ['completion', 'vision'],
      family: 'gemma3',
      parameterSize: '4B',
      quantization: '4bit',
      format: 'mlx',
      contextLength: 131072,
    });
    expect((await b.describe('text-embedding-nomic-embed-text-v1.5'))?.capabilities).toEqual(['embedding']);
    await b.close();
    // LM Studio before 0.4 answers 200 on unknown paths with a message, not a model list.
    const old = await serve('/api/v1/models', {
      error: 'Unexpected endpoint or method. Returning 200 anyway',
    });
    const ob = createBackend(workerAt(old.url, { type: 'lm_studio' }));
    expect(await ob.describe('m')).toBeUndefined();
    await ob.close();
  });

  it("Ollama: /api/show's capabilities and details; of model_info only plain values", async () => {
    const s = await serve('/api/show', {
      modelfile: '# Modelfile',
      parameters: 'temperature 0.6',
      template: '{{ .System }}',
      details: {
        parent_model: '',
        format: 'gguf',
        family: 'qwen3',
        families: ['qwen3'],
        parameter_size: '8.2B',
        quantization_level: 'Q4_K_M',
      },
      model_info: {
        'general.architecture': 'qwen3',
        'qwen3.context_length': 40960,
        'tokenizer.ggml.tokens': ['a', 'b'],
        'tokenizer.ggml.merges': null,
      },
      capabilities: ['completion', 'tools', 'thinking'],
    });
    const b = createBackend(workerAt(s.url, { type: 'ollama', model: 'qwen3:8b' }));
    expect(await b.describe('qwen3:8b')).toEqual({
      capabilities: ['completion', 'tools', 'thinking'],
      family: 'qwen3',
      parameterSize: '8.2B',
      quantization: 'Q4_K_M',
      format: 'gguf',
      contextLength: 40960,
      template: '{{ .System }}',
      parameters: 'temperature 0.6',
      modelInfo: { 'general.architecture': 'qwen3', 'qwen3.context_length': 40960 },
    });
    expect(s.requests.at(-1)?.json()).toEqual({ model: 'qwen3:8b' });
    await b.close();
  });
});
