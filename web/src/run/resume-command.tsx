/**
 * The `weft resume` command of a run that did not complete, with a copy button. Where the
 * clipboard cannot be written (an insecure origin, a refused permission), the command is
 * selected instead, ready for the keyboard's copy.
 */
import { useRef, useState } from 'preact/hooks';

export function ResumeCommand({ command }: { readonly command: string }) {
  const code = useRef<HTMLElement>(null);
  const [said, setSaid] = useState('');
  const select = () => {
    const element = code.current;
    const selection = window.getSelection();
    if (!element || !selection) return;
    selection.selectAllChildren(element);
  };
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(command);
      setSaid('Copied');
    } catch {
      select();
      setSaid('Selected: press Ctrl+C (⌘C) to copy');
    }
  };
  return (
    <div class="resume">
      <span class="resume-label">Resume with</span>
      <code ref={code} class="resume-command" data-testid="resume-command">
        {command}
      </code>
      <button type="button" class="small" onClick={copy}>
        Copy
      </button>
      <span class="muted small-text" role="status">
        {said}
      </span>
    </div>
  );
}
