import { HeapProfileNode, packageOf, summariseAllocations } from './profiler';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });
const node = (
  functionName: string,
  selfSize: number,
  children: HeapProfileNode[] = [],
  url = 'file:///repo/dist/apps/gateway/src/main.js',
) => ({
  callFrame: frame(functionName, url, 41),
  selfSize,
  children,
});

describe('summariseAllocations', () => {
  it('adds up the bytes per function over the whole tree, largest first, with shares of the total', () => {
    const MiB = 2 ** 20;
    const head: HeapProfileNode = {
      callFrame: frame('(root)'),
      selfSize: 0,
      children: [
        node('handle', 2 * MiB, [node('sign', 1 * MiB), node('handle', 1 * MiB)]),
        node('ClientRequest', 4 * MiB, [], 'node:_http_client'),
        { callFrame: frame('(V8 API)'), selfSize: 0, children: [] },
      ],
    };
    const { totalMiB, top } = summariseAllocations(head);
    expect(totalMiB).toBe(8);
    expect(top).toEqual([
      { name: 'ClientRequest (node:_http_client:42)', mib: 4, sharePct: 50 },
      { name: 'handle (apps/gateway/src/main.js:42)', mib: 3, sharePct: 37.5 },
      { name: 'sign (apps/gateway/src/main.js:42)', mib: 1, sharePct: 12.5 },
    ]);
  });

  it('names packages, Node and our own code', () => {
    expect(packageOf('file:///repo/node_modules/@aws-sdk/client-s3/dist/index.js')).toBe('@aws-sdk/client-s3');
    expect(packageOf('node:events')).toBe('node (built-in)');
    expect(packageOf('file:///repo/dist/libs/platform/src/x.js')).toBe('ours: libs/platform');
    expect(packageOf('')).toBe('(native/V8)');
  });
});
