/** The header row the page's tables share. */

/** A column's title; {@link num} marks a column of numbers. */
export type Column = string | { readonly title: string; readonly num: true };

/** A column of numbers, aligned right as its cells are. */
export function num(title: string): Column {
  return { title, num: true };
}

/** A table's header row: one column header per title, those of numbers aligned right. */
export function TableHead({ columns }: { readonly columns: readonly Column[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) =>
          typeof column === 'string' ? (
            <th scope="col" key={column}>
              {column}
            </th>
          ) : (
            <th scope="col" class="num" key={column.title}>
              {column.title}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}
