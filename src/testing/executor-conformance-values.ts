/**
 * Executor conformance, values that must round-trip between this thread and the task:
 * Map, Set, Date, BigInt, typed arrays, nested data, `undefined`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { map } from '../core/map.ts';
import * as tasks from './conformance-tasks.ts';
import { type ConformanceSuite, caseOptions } from './executor-conformance-support.ts';

/** Declares the cases on values that round-trip. */
export function describeValues({ executor }: ConformanceSuite): void {
  describe('values round-trip', () => {
    for (const sample of roundTripSamples()) {
      it(sample.label, caseOptions, async () => {
        const [output] = await map([sample.value], tasks.echo, { executor: executor() });
        assert.deepEqual(output, { value: sample.value, tag: sample.tag });
      });
    }
  });
}

/** A sample value, and the type tag the task must see. */
interface Sample {
  readonly label: string;
  readonly value: unknown;
  readonly tag: string;
}

function roundTripSamples(): Sample[] {
  return [
    {
      label: 'numbers',
      value: [0, 1, -7, 3.25, -0.125, Number.MAX_SAFE_INTEGER, 1e-300],
      tag: '[object Array]',
    },
    { label: 'a number', value: 42.5, tag: '[object Number]' },
    { label: 'an empty string', value: '', tag: '[object String]' },
    { label: 'a unicode string', value: 'ünï ✓ 𝄞 "q" \\ \n\t', tag: '[object String]' },
    {
      label: 'nested objects and arrays',
      value: { a: [1, { b: [2, [3, 'x']] }], c: { d: { e: 'deep', f: true } }, g: [] },
      tag: '[object Object]',
    },
    {
      label: 'a Map (with non-string keys and nested values)',
      value: new Map<unknown, unknown>([
        ['a', 1],
        [2, { nested: [1, 2] }],
        ['inner', new Map([['x', new Set([1])]])],
      ]),
      tag: '[object Map]',
    },
    { label: 'a Set', value: new Set([1, 'two', 3]), tag: '[object Set]' },
    {
      label: 'a Date',
      value: new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 123)),
      tag: '[object Date]',
    },
    { label: 'a BigInt', value: 2n ** 100n, tag: '[object BigInt]' },
    {
      label: 'BigInts, Dates, Maps and Sets inside an object',
      value: {
        big: -(2n ** 70n),
        when: new Date(0),
        tags: new Set(['a', 'b']),
        index: new Map([['k', [1]]]),
      },
      tag: '[object Object]',
    },
    {
      label: 'a Float64Array',
      value: new Float64Array([1.5, -2.25, Math.PI, 0]),
      tag: '[object Float64Array]',
    },
    { label: 'a Uint8Array', value: new Uint8Array([0, 1, 127, 255]), tag: '[object Uint8Array]' },
    {
      label: 'typed arrays inside an object',
      value: { f: new Float64Array([0.5]), u: new Uint8Array([9, 8]) },
      tag: '[object Object]',
    },
    {
      label: 'undefined and null inside objects and arrays',
      value: { a: undefined, b: null, c: [undefined, null, 1], d: { e: undefined } },
      tag: '[object Object]',
    },
  ];
}
