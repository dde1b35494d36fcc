/** A filter of a list: a labelled choice of one value, or of all (the empty value). */

/** A value to choose, shown as itself or with a label of its own. */
export type Choice = string | { readonly value: string; readonly label: string };

export function FilterSelect({
  label,
  value,
  choices,
  onChange,
}: {
  readonly label: string;
  readonly value: string;
  readonly choices: readonly Choice[];
  readonly onChange: (value: string) => void;
}) {
  return (
    <label>
      {label}{' '}
      <select value={value} onChange={(event) => onChange(event.currentTarget.value)}>
        <option value="">all</option>
        {choices.map((choice) => {
          const shown = typeof choice === 'string' ? { value: choice, label: choice } : choice;
          return (
            <option key={shown.value} value={shown.value}>
              {shown.label}
            </option>
          );
        })}
      </select>
    </label>
  );
}
