/**
 * Tether reads YAML the way Kubernetes' own tools do: every file of the good corpus, dry-run
 * through Tether's parser and raw SSA request, must come back from the real API server
 * exactly as `kubectl apply --server-side --dry-run=server -o json` gets it back.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject } from '../../src/cluster/apply.ts';
import { KubeClient } from '../../src/cluster/client.ts';
import { Discovery } from '../../src/cluster/discovery.ts';
import { loadManifests } from '../../src/manifests/index.ts';
import { kubeconfig, kubectl, repoRoot } from '../support/cluster.ts';

const dir = join(repoRoot, 'test', 'fixtures', 'manifests', 'good');
const commit = 'c'.repeat(40);

/** What the server generates on its own for a create: not part of the comparison. */
function strip(obj: Record<string, unknown>): Record<string, unknown> {
  const metadata = { ...(obj.metadata as Record<string, unknown>) };
  for (const k of ['uid', 'creationTimestamp', 'managedFields', 'resourceVersion', 'generation'])
    delete metadata[k];
  return { ...obj, metadata };
}

describe('the good corpus reaches the API server as kubectl sends it', () => {
  let client: KubeClient;
  let discovery: Discovery;

  beforeAll(async () => {
    client = await KubeClient.create({ kubeconfig: kubeconfig() });
    discovery = new Discovery(client);
    // The namespaced objects use namespace tether-test; the Widgets need their CRD for real.
    await kubectl([
      'apply',
      '--server-side',
      '--force-conflicts',
      '-f',
      join(dir, 'namespace.yaml'),
      '-f',
      join(dir, 'crd.yaml'),
    ]);
    await kubectl(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=60s']);
    await discovery.refresh();
  });
  afterAll(() => client.close());

  const files = [
    'scalars.yaml',
    'keys.yaml',
    'anchors-merge.yaml',
    'octal-modes.yaml',
    'multiline.yaml',
    'lists.yaml',
    'unicode.yaml',
    'service.json',
    'comments-and-empty-documents.yaml',
    'crd.yaml',
  ];

  it.each(files)('%s', async (file) => {
    const manifests = loadManifests([{ path: file, content: readFileSync(join(dir, file)) }], { commit });
    expect(manifests.length).toBeGreaterThan(0);
    const theirs = JSON.parse(
      await kubectl([
        'apply',
        '--server-side',
        '--dry-run=server',
        '--force-conflicts',
        '-o',
        'json',
        '-f',
        join(dir, file),
      ]),
    ) as Record<string, unknown> & { items?: Record<string, unknown>[] };
    const kubectlObjects = theirs.kind === 'List' ? theirs.items! : [theirs];
    expect(kubectlObjects).toHaveLength(manifests.length);
    for (const [i, m] of manifests.entries()) {
      const info = (await discovery.lookup(m.id.group, m.id.version, m.id.kind))!;
      const ours = await applyObject(client, info, m.object, {
        dryRun: true,
        force: true,
        fieldManager: 'kubectl',
      });
      expect(strip(ours), `${file} object ${i + 1}`).toEqual(strip(kubectlObjects[i]!));
    }
  });
});
