/** A laminar layer picked in a flow's graph: its tasks and attributes, sharded or not. */
import type { LayerView } from '../../../src/ui/api-types.ts';
import { api } from '../api.ts';
import { ErrorNotice, Loading } from '../components/notice.tsx';
import { TableHead } from '../components/table-head.tsx';
import { formatCount } from '../format.ts';
import { useLoad } from '../hooks.ts';
import type { PickedLayer } from './graph-view.tsx';

function shardSummary(lengths: readonly number[]): string {
  if (lengths.length === 0) return 'no shards';
  const total = lengths.reduce((sum, length) => sum + length, 0);
  const min = Math.min(...lengths);
  const max = Math.max(...lengths);
  const range =
    min === max ? `${formatCount(min)} each` : `${formatCount(min)}–${formatCount(max)}`;
  return `${formatCount(total)} items in ${formatCount(lengths.length)} shards (${range})`;
}

function LayerTable({ layer }: { readonly layer: LayerView }) {
  return (
    <>
      <h3>
        Layer <code>{layer.layer}</code> <span class="muted">of {layer.flow}</span>
      </h3>
      <p class="muted small-text">
        {formatCount(layer.completed)} of {formatCount(layer.tasks)}{' '}
        {layer.tasks === 1 ? 'task' : 'tasks'} wrote their attributes
        {layer.foreach ? ' · ForEach' : ''}
      </p>
      {layer.attributes.length === 0 ? (
        <p class="muted">No attributes.</p>
      ) : (
        <table class="compact">
          <caption class="visually-hidden">Attributes of layer {layer.layer}</caption>
          <TableHead columns={['Attribute', 'Kind', 'Shards']} />
          <tbody>
            {layer.attributes.map((attribute) => (
              <tr key={attribute.name}>
                <td class="mono">{attribute.name}</td>
                <td>
                  <span class="kind">{attribute.kind}</span>
                </td>
                <td>
                  {attribute.lengths ? (
                    <span title={attribute.lengths.slice(0, 200).join(', ')}>
                      {shardSummary(attribute.lengths)}
                    </span>
                  ) : (
                    <span class="muted">–</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function LayerPanel({
  runId,
  layer,
  onClose,
}: {
  readonly runId: string;
  readonly layer: PickedLayer;
  readonly onClose: () => void;
}) {
  const loaded = useLoad(
    (signal) => api.layer(runId, layer, signal),
    [runId, layer.flow, layer.layer],
  );
  const current =
    loaded.data?.layer === layer.layer && loaded.data.flow === layer.flow ? loaded.data : undefined;
  return (
    <section class="layer-view panel" data-testid="layer-view" aria-live="polite">
      <button type="button" class="small close" onClick={onClose} aria-label="Close layer">
        ×
      </button>
      {loaded.error !== undefined && !loaded.loading ? (
        <ErrorNotice error={loaded.error} />
      ) : current ? (
        <LayerTable layer={current} />
      ) : (
        <Loading what={`layer ${layer.layer}`} />
      )}
    </section>
  );
}
