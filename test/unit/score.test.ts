import { describe, expect, it } from 'vitest';
import { checkScore } from '../../src/trace/score';

const makeId = () => 'generated-id';
const T = '0af7651916cd43dd8448eb211c80319c';

describe('checkScore: accepted', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['numeric without dataType', { name: 'quality', value: 0.8, traceId: T }, { id: 'generated-id', name: 'quality', value: 0.8, traceId: T }],
    ['string without dataType', { name: 'label', value: 'good', sessionId: 's1' }, { id: 'generated-id', name: 'label', value: 'good', sessionId: 's1' }],
    ['NUMERIC', { name: 'n', value: -3, traceId: T, dataType: 'NUMERIC' }, { id: 'generated-id', name: 'n', value: -3, traceId: T, dataType: 'NUMERIC' }],
    ['BOOLEAN 1', { name: 'thumbs', value: 1, traceId: T, dataType: 'BOOLEAN' }, { id: 'generated-id', name: 'thumbs', value: 1, traceId: T, dataType: 'BOOLEAN' }],
    ['BOOLEAN from true', { name: 'thumbs', value: true, traceId: T }, { id: 'generated-id', name: 'thumbs', value: 1, traceId: T, dataType: 'BOOLEAN' }],
    ['BOOLEAN from false', { name: 'thumbs', value: false, traceId: T, dataType: 'BOOLEAN' }, { id: 'generated-id', name: 'thumbs', value: 0, traceId: T, dataType: 'BOOLEAN' }],
    ['CATEGORICAL', { name: 'c', value: 'red', datasetRunId: 'r1', dataType: 'CATEGORICAL' }, { id: 'generated-id', name: 'c', value: 'red', datasetRunId: 'r1', dataType: 'CATEGORICAL' }],
    ['TEXT of 500', { name: 't', value: 'x'.repeat(500), traceId: T, dataType: 'TEXT' }, { id: 'generated-id', name: 't', value: 'x'.repeat(500), traceId: T, dataType: 'TEXT' }],
    [
      'every optional field',
      { id: 'my-id', name: 'n', value: 1, traceId: T, observationId: 'b7ad6b7169203331', comment: 'ok', metadata: { a: [1] }, environment: 'prod', configId: 'cfg', queueId: 'q' },
      { id: 'my-id', name: 'n', value: 1, traceId: T, observationId: 'b7ad6b7169203331', comment: 'ok', metadata: { a: [1] }, environment: 'prod', configId: 'cfg', queueId: 'q' },
    ],
    ['null fields count as absent', { name: 'n', value: 1, traceId: T, sessionId: null, comment: null }, { id: 'generated-id', name: 'n', value: 1, traceId: T }],
    ['an id of 800 characters', { id: 'i'.repeat(800), name: 'n', value: 1, traceId: T }, { id: 'i'.repeat(800), name: 'n', value: 1, traceId: T }],
  ])('%s', (_name, input, body) => {
    const result = checkScore(input, makeId);
    expect(result).toEqual({ ok: true, id: body.id, body });
  });

  it('strips unknown keys and names them', () => {
    const result = checkScore({ name: 'n', value: 1, traceId: T, extra: 1, traceID: 'typo' }, makeId);
    expect(result).toEqual({ ok: true, id: 'generated-id', body: { id: 'generated-id', name: 'n', value: 1, traceId: T }, stripped: ['extra', 'traceID'] });
  });
});

describe('checkScore: refused, naming the field', () => {
  it.each<[string, unknown, string]>([
    ['not an object', 'thumbs', 'score: must be an object'],
    ['null', null, 'score: must be an object'],
    ['an array', [], 'score: must be an object'],
    ['no name', { value: 1, traceId: T }, 'score.name: must be a non-empty string'],
    ['an empty name', { name: ' ', value: 1, traceId: T }, 'score.name: must be a non-empty string'],
    ['no target', { name: 'n', value: 1 }, 'score.traceId: exactly one of traceId, sessionId, datasetRunId is required'],
    ['two targets', { name: 'n', value: 1, traceId: T, sessionId: 's' }, 'score.sessionId: exactly one of traceId, sessionId, datasetRunId is required'],
    ['three targets', { name: 'n', value: 1, traceId: T, sessionId: 's', datasetRunId: 'd' }, 'score.sessionId: exactly one of traceId, sessionId, datasetRunId is required'],
    ['observationId without traceId', { name: 'n', value: 1, sessionId: 's', observationId: 'o' }, 'score.observationId: needs traceId'],
    ['an empty traceId', { name: 'n', value: 1, traceId: '' }, 'score.traceId: must be a non-empty string'],
    ['no value', { name: 'n', traceId: T }, 'score.value: must be a finite number or a string'],
    ['NaN', { name: 'n', value: NaN, traceId: T }, 'score.value: must be a finite number or a string'],
    ['Infinity', { name: 'n', value: Infinity, traceId: T }, 'score.value: must be a finite number or a string'],
    ['an object value', { name: 'n', value: { v: 1 }, traceId: T }, 'score.value: must be a finite number or a string'],
    ['NUMERIC string', { name: 'n', value: '1', traceId: T, dataType: 'NUMERIC' }, 'score.value: must be a finite number for dataType NUMERIC'],
    ['BOOLEAN 2', { name: 'n', value: 2, traceId: T, dataType: 'BOOLEAN' }, 'score.value: must be 0 or 1 (or true/false) for dataType BOOLEAN'],
    ['BOOLEAN "true"', { name: 'n', value: 'true', traceId: T, dataType: 'BOOLEAN' }, 'score.value: must be 0 or 1 (or true/false) for dataType BOOLEAN'],
    ['CATEGORICAL number', { name: 'n', value: 3, traceId: T, dataType: 'CATEGORICAL' }, 'score.value: must be a non-empty string for dataType CATEGORICAL'],
    ['CATEGORICAL empty', { name: 'n', value: '', traceId: T, dataType: 'CATEGORICAL' }, 'score.value: must be a non-empty string for dataType CATEGORICAL'],
    ['TEXT of 501', { name: 'n', value: 'x'.repeat(501), traceId: T, dataType: 'TEXT' }, 'score.value: must be a string of 1 to 500 characters for dataType TEXT'],
    ['TEXT empty', { name: 'n', value: '', traceId: T, dataType: 'TEXT' }, 'score.value: must be a string of 1 to 500 characters for dataType TEXT'],
    ['an unknown dataType', { name: 'n', value: 1, traceId: T, dataType: 'numeric' }, "score.dataType: must be 'NUMERIC', 'BOOLEAN', 'CATEGORICAL' or 'TEXT'"],
    ['an id of 801 characters', { id: 'i'.repeat(801), name: 'n', value: 1, traceId: T }, 'score.id: must be a string of 1 to 800 characters'],
    ['an empty id', { id: '', name: 'n', value: 1, traceId: T }, 'score.id: must be a string of 1 to 800 characters'],
    ['a number comment', { name: 'n', value: 1, traceId: T, comment: 5 }, 'score.comment: must be a string'],
  ])('%s', (_name, input, detail) => {
    expect(checkScore(input, makeId)).toEqual({ ok: false, detail });
  });

  it('a hostile object is refused, not thrown', () => {
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('trap'); } });
    expect(checkScore(hostile, makeId)).toEqual({ ok: false, detail: 'score: unreadable object' });
  });

  it('reports several problems at once', () => {
    const result = checkScore({ name: '', value: 1 }, makeId);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.detail).toContain('score.name: must be a non-empty string');
  });

  it('does not call makeId for a refused score or when an id is given', () => {
    let calls = 0;
    const counting = () => `id-${++calls}`;
    checkScore({ name: 'n', value: 1 }, counting);
    checkScore({ id: 'mine', name: 'n', value: 1, traceId: T }, counting);
    expect(calls).toBe(0);
    expect(checkScore({ name: 'n', value: 1, traceId: T }, counting)).toMatchObject({ ok: true, id: 'id-1' });
  });
});
