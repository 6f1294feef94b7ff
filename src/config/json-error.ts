/**
 * Where and why a JSON text is malformed. Node 20's `JSON.parse` often names no position
 * ("Unexpected token '}', ... is not valid JSON"), so after it fails this small scanner walks
 * the text once to find the first offending character and say what was expected there. It is
 * only a locator: it runs on text JSON.parse has already rejected.
 */
export interface JsonSyntaxError {
  offset: number;
  reason: string;
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function locateJsonError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const shown = () => (i >= text.length ? 'the end of the file' : JSON.stringify(text.charAt(i)));
  const fail = (expected: string, hint = ''): never => {
    throw new Stop(i, `expected ${expected}, found ${shown()}${hint}`);
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('a value (object, list, string, number, true, false or null)');
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length) {
      const c = text.charAt(i);
      if (c === '"') return void i++;
      if (c === '\\') {
        const next = text.charAt(i + 1);
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if ('"\\/bfnrt'.includes(next) && next !== '') i += 2;
        else throw new Stop(i, 'invalid escape in a string');
      } else if (c < ' ') throw new Stop(i, 'a raw control character (e.g. a line break) inside a string');
      else i++;
    }
    throw new Stop(i, "unterminated string: expected a closing '\"'");
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail('a value (object, list, string, number, true, false or null)');
    else i += m[0].length;
  };
  const value = (): void => {
    ws();
    const c = text.charAt(i);
    if (c === '{') return object();
    if (c === '[') return list();
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    if (c === "'") fail('a value', ' (JSON strings use double quotes)');
    fail('a value (object, list, string, number, true, false or null)');
  };
  const object = () => {
    i++;
    ws();
    if (text.charAt(i) === '}') return void i++;
    for (;;) {
      ws();
      if (text.charAt(i) !== '"') {
        fail(
          'a double-quoted property name',
          text.charAt(i) === '}' ? ' (JSON allows no trailing comma)' : '',
        );
      }
      string();
      ws();
      if (text.charAt(i) !== ':') fail("':' after the property name");
      i++;
      value();
      ws();
      const c = text.charAt(i);
      if (c === '}') return void i++;
      if (c !== ',') fail("',' or '}' after a property value");
      i++;
    }
  };
  const list = () => {
    i++;
    ws();
    if (text.charAt(i) === ']') return void i++;
    for (;;) {
      ws();
      if (text.charAt(i) === ']') fail('a value', ' (JSON allows no trailing comma)');
      value();
      ws();
      const c = text.charAt(i);
      if (c === ']') return void i++;
      if (c !== ',') fail("',' or ']' after a list item");
      i++;
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail('the end of the file after the top-level value');
    return undefined;
  } catch (err) {
    if (err instanceof Stop) return { offset: err.offset, reason: err.reason };
    throw err;
  }
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charAt(k) === '\n') {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
