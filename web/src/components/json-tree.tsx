/** A JSON value as a tree: nested values fold under their key, long strings and lists are cut short. */

const shownEntries = 200;
const shownChars = 160;

function Scalar({ value }: { readonly value: unknown }) {
  if (value === null) return <span class="json-null">null</span>;
  switch (typeof value) {
    case 'string':
      if (value.length > shownChars) {
        return (
          <details class="json-long">
            <summary>
              <span class="json-string">"{value.slice(0, shownChars)}…"</span>{' '}
              <span class="muted">({value.length} chars)</span>
            </summary>
            <pre class="json-string">{value}</pre>
          </details>
        );
      }
      return <span class="json-string">"{value}"</span>;
    case 'number':
    case 'bigint':
      return <span class="json-number">{String(value)}</span>;
    case 'boolean':
      return <span class="json-boolean">{String(value)}</span>;
    case 'undefined':
      return <span class="json-null">undefined</span>;
    default:
      return <span>{String(value)}</span>;
  }
}

function isBranch(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

function Entries({ value, depth }: { readonly value: object; readonly depth: number }) {
  const entries = Object.entries(value);
  return (
    <ul class="json-entries">
      {entries.slice(0, shownEntries).map(([name, child]) => (
        <li key={name}>
          <JsonEntry name={name} value={child} depth={depth + 1} />
        </li>
      ))}
      {entries.length > shownEntries && (
        <li class="muted">… {entries.length - shownEntries} more not shown</li>
      )}
    </ul>
  );
}

/** `name: value`, a nested value folding under its name. */
function JsonEntry({
  name,
  value,
  depth,
  note,
}: {
  readonly name: string;
  readonly value: unknown;
  readonly depth: number;
  /** Said to screen readers after the name ("changed"). */
  readonly note?: string;
}) {
  const key = (
    <>
      <span class="json-key">{name}</span>
      {note && <span class="visually-hidden"> ({note})</span>}:{' '}
    </>
  );
  if (!isBranch(value)) {
    return (
      <>
        {key}
        <Scalar value={value} />
      </>
    );
  }
  const size = Array.isArray(value) ? value.length : Object.keys(value).length;
  if (size === 0) {
    return (
      <>
        {key}
        <span class="json-null">{Array.isArray(value) ? '[]' : '{}'}</span>
      </>
    );
  }
  return (
    <details class="json-branch" open={depth < 2 && size <= 20}>
      <summary>
        {key}
        <span class="muted">
          {Array.isArray(value)
            ? `[${size} ${size === 1 ? 'item' : 'items'}]`
            : `{${size} ${size === 1 ? 'key' : 'keys'}}`}
        </span>
      </summary>
      <Entries value={value} depth={depth} />
    </details>
  );
}

/**
 * An object's keys as a tree, with the keys in `changed` marked and the `removed` ones
 * struck out (they are no longer in the object).
 */
export function JsonTree({
  value,
  changed = [],
  removed = [],
}: {
  readonly value: Readonly<Record<string, unknown>>;
  readonly changed?: readonly string[];
  readonly removed?: readonly string[];
}) {
  const marked = new Set(changed);
  const names = Object.keys(value);
  return (
    <ul class="json-entries json-root">
      {names.map((name) => (
        <li key={name} class={marked.has(name) ? 'json-changed' : undefined}>
          <JsonEntry
            name={name}
            value={value[name]}
            depth={0}
            note={marked.has(name) ? 'changed' : undefined}
          />
        </li>
      ))}
      {removed.map((name) => (
        <li key={`removed:${name}`} class="json-removed">
          <del>
            <span class="json-key">{name}</span>
          </del>{' '}
          <span class="muted">removed</span>
        </li>
      ))}
      {names.length === 0 && removed.length === 0 && <li class="muted">(empty state)</li>}
    </ul>
  );
}
