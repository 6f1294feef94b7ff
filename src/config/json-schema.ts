import * as z from 'zod';
import { configFileSchema, workerFileSchema } from './schema.ts';

/**
 * JSON Schema (draft 2020-12) of the config file, with every field's description and default,
 * for editors (`"$schema": "..."` in the file) and for `fleet config schema`. It describes the
 * input: fields with defaults are optional.
 */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configFileSchema, {
    io: 'input',
    override: (ctx) => {
      // "model and/or models" is a cross-field rule zod cannot express; JSON Schema can.
      if (ctx.zodSchema === workerFileSchema) {
        ctx.jsonSchema.anyOf = [{ required: ['model'] }, { required: ['models'] }];
      }
    },
  });
}
