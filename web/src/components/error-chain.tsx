/** A stored error with its whole cause chain: name, code, message, stack collapsed. */
import type { WireError } from '../../../src/core/errors.ts';

export function ErrorChain({ error }: { readonly error: WireError }) {
  const chain: WireError[] = [];
  for (let at: WireError | undefined = error; at && chain.length < 16; at = at.cause) {
    chain.push(at);
  }
  return (
    <ol class="error-chain">
      {chain.map((link, index) => (
        <li key={index} class={index > 0 ? 'caused' : undefined}>
          {index > 0 && <span class="caused-by">caused by</span>}
          <div class="error-head">
            <strong class="error-name">{link.name}</strong>
            {link.code && <code class="error-code">{link.code}</code>}
          </div>
          <p class="error-message">{link.message}</p>
          {link.props && Object.keys(link.props).length > 0 && (
            <dl class="error-props">
              {Object.entries(link.props).map(([name, value]) => (
                <div key={name}>
                  <dt>{name}</dt>
                  <dd>{String(value)}</dd>
                </div>
              ))}
            </dl>
          )}
          {link.stack && (
            <details class="error-stack">
              <summary>stack</summary>
              <pre>{link.stack}</pre>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}
