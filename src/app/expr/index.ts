/**
 * A small, safe expression language for transition conditions, e.g. `expr('count < 10')`.
 *
 * Python-flavoured (`and`/`or`/`not`, chained comparisons, `in`, `is`, `//`, `**`), with the
 * JS spellings accepted too (`&&`, `||`, `!`, `===`, `true`, `null`). Source text is tokenized
 * and parsed once into an AST, which is compiled into closures; nothing is `eval`ed, only
 * state values are read, and only a fixed set of builtins can be called.
 */
export { type CompiledExpression, compileExpression } from './compile.ts';
export { truthy } from './semantics.ts';
