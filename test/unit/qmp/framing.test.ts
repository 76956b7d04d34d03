import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { JsonLines, type JsonLinesEvents } from '../../../src/qmp/framing.js';

function setup(maxLineBytes?: number) {
  const stream = new PassThrough();
  const lines = new JsonLines(stream, maxLineBytes === undefined ? {} : { maxLineBytes });
  const messages: unknown[] = [];
  const invalid: JsonLinesEvents['invalid'][0][] = [];
  lines.on('message', (m) => messages.push(m));
  lines.on('invalid', (i) => invalid.push(i));
  return { stream, lines, messages, invalid };
}

describe('JsonLines', () => {
  it('joins a line split across chunks and splits several lines in one chunk', () => {
    const { stream, messages } = setup();
    stream.emit('data', Buffer.from('{"a":'));
    stream.emit('data', Buffer.from('1}\n{"b":2}\n{"c"'));
    stream.emit('data', Buffer.from(':3}\n'));
    expect(messages).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
  });

  it('reports bad JSON and non-objects and keeps going', () => {
    const { stream, messages, invalid } = setup();
    stream.emit('data', Buffer.from('not json\n[1,2]\n"str"\n{"ok":true}\n'));
    expect(invalid.map((i) => i.reason)).toEqual(['bad-json', 'not-object', 'not-object']);
    expect(messages).toEqual([{ ok: true }]);
  });

  it('drops an over-long line up to its newline without buffering it, then resumes', () => {
    const { stream, messages, invalid, lines } = setup(16);
    stream.emit('data', Buffer.from('{"a":"0123456789'));
    stream.emit('data', Buffer.from('0123456789012345678901234567890'));
    stream.emit('data', Buffer.from('"}\n{"b":1}\n'));
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.reason).toBe('too-long');
    expect(messages).toEqual([{ b: 1 }]);
    expect(lines.maxLineBytes).toBe(16);
  });

  it('ignores blank lines', () => {
    const { stream, messages, invalid } = setup();
    stream.emit('data', Buffer.from('\n\r\n{"x":1}\r\n'));
    expect(messages).toEqual([{ x: 1 }]);
    expect(invalid).toEqual([]);
  });

  it('writes one line per message and refuses to send after close', async () => {
    const { stream, lines } = setup();
    const written: string[] = [];
    stream.on('data', () => undefined);
    const originalWrite = stream.write.bind(stream);
    stream.write = ((chunk: string) => {
      written.push(chunk);
      return originalWrite(chunk);
    }) as typeof stream.write;
    expect(lines.send({ execute: 'stop', id: 1 })).toBe(true);
    expect(written).toEqual(['{"execute":"stop","id":1}\n']);
    const closed = new Promise((resolve) => lines.once('close', resolve));
    lines.close();
    await closed;
    expect(lines.closed).toBe(true);
    expect(lines.send({ execute: 'cont' })).toBe(false);
  });
});
