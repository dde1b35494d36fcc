/**
 * Graphs: named actions and the transitions between them. `GraphBuilder` builds one to
 * reuse (in several applications, or as a sub-graph of a parallel action);
 * `ApplicationBuilder` builds one in place. A graph is checked when built: unknown
 * action names, duplicate names and unreachable transitions are errors.
 */
import { ValidationError } from '../core/errors.ts';
import type { Action } from './action.ts';
import { type Condition, defaultTransition } from './conditions.ts';

/** `[from, to]` or `[from, to, condition]`; `from` may list several actions. */
export type TransitionSpec =
  | readonly [from: string | readonly string[], to: string]
  | readonly [from: string | readonly string[], to: string, condition: Condition];

/** One edge of a graph. */
export interface Transition {
  /** The action it leaves. */
  readonly from: string;
  /** The action it goes to. */
  readonly to: string;
  /** When it is taken (`defaultTransition`: always). */
  readonly condition: Condition;
}

/** A built, checked graph of actions. */
export class Graph {
  /** The actions, by name. */
  readonly actions: ReadonlyMap<string, Action>;
  /** Every transition, in the order given. */
  readonly transitions: readonly Transition[];
  readonly #outgoing: ReadonlyMap<string, readonly Transition[]>;

  constructor(actions: ReadonlyMap<string, Action>, transitions: readonly Transition[]) {
    this.actions = actions;
    this.transitions = transitions;
    const outgoing = new Map<string, Transition[]>();
    for (const transition of transitions) {
      const list = outgoing.get(transition.from) ?? [];
      list.push(transition);
      outgoing.set(transition.from, list);
    }
    this.#outgoing = outgoing;
  }

  /** The action named `name`, or an error listing the graph's actions. */
  action(name: string, what = 'Action'): Action {
    const found = this.actions.get(name);
    if (!found) {
      throw new ValidationError(
        `${what} '${name}' is not in the graph; its actions are ${list([...this.actions.keys()])}.`,
      );
    }
    return found;
  }

  /** Transitions leaving `name`, in the order they were given. */
  outgoing(name: string): readonly Transition[] {
    return this.#outgoing.get(name) ?? [];
  }
}

/**
 * Builds a {@link Graph}.
 * @example
 * const graph = new GraphBuilder()
 *   .withActions({ entry, add, done })
 *   .withTransitions(['entry', 'add'], ['add', 'done'])
 *   .build();
 */
export class GraphBuilder {
  readonly #actions = new Map<string, Action>();
  readonly #transitions: TransitionSpec[] = [];

  /** Adds actions by name (the object key), or actions that carry their own name. */
  withActions(...groups: (Readonly<Record<string, Action>> | Action)[]): this {
    addActions(this.#actions, groups);
    return this;
  }

  /** Adds transitions, checked in the order given; the first whose condition holds is taken. */
  withTransitions(...transitions: TransitionSpec[]): this {
    for (const spec of transitions) {
      if (!Array.isArray(spec) || spec.length < 2 || spec.length > 3) {
        throw new ValidationError(
          "withTransitions takes [from, to] or [from, to, condition] arrays, e.g. ['a', 'b', when({ ok: true })].",
        );
      }
      this.#transitions.push(spec);
    }
    return this;
  }

  /** Checks and builds the graph. */
  build(): Graph {
    return buildGraph(this.#actions, this.#transitions);
  }
}

/** Adds named actions to `into`, checking each (shared with ApplicationBuilder). */
export function addActions(
  into: Map<string, Action>,
  groups: readonly (Readonly<Record<string, Action>> | Action)[],
): void {
  for (const group of groups) {
    const named: [string, Action][] = isAction(group)
      ? [[actionName(group), group]]
      : Object.entries(group);
    for (const [name, act] of named) {
      if (!isAction(act)) {
        throw new ValidationError(
          `withActions: '${name}' is not an action: make it with action({ reads, writes }, fn) ` +
            'or a class extending Action.',
        );
      }
      if (into.has(name)) {
        throw new ValidationError(`withActions: two actions are named '${name}'. Rename one.`);
      }
      into.set(name, act);
    }
  }
}

/** Checks actions and transitions and makes the graph (shared with ApplicationBuilder). */
export function buildGraph(
  actions: ReadonlyMap<string, Action>,
  specs: readonly TransitionSpec[],
): Graph {
  if (actions.size === 0) {
    throw new ValidationError(
      'A graph needs at least one action: call withActions({ name: action }).',
    );
  }
  const transitions: Transition[] = [];
  for (const [from, to, condition = defaultTransition] of specs) {
    const sources = typeof from === 'string' ? [from] : from;
    for (const source of sources) {
      for (const [end, name] of [
        ['from', source],
        ['to', to],
      ] as const) {
        if (!actions.has(name)) {
          throw new ValidationError(
            `Transition ${source} → ${to}: '${name}' (${end}) is not an action; the actions are ` +
              `${list([...actions.keys()])}.`,
          );
        }
      }
      transitions.push({ from: source, to, condition });
    }
  }
  // A transition after a default is never taken: almost certainly a mistake in the order.
  const seenDefault = new Map<string, Transition>();
  for (const transition of transitions) {
    const earlier = seenDefault.get(transition.from);
    if (earlier) {
      throw new ValidationError(
        `Transition ${transition.from} → ${transition.to} can never be taken: it comes after the ` +
          `default transition ${earlier.from} → ${earlier.to}. Put the default last.`,
      );
    }
    if (transition.condition.isDefault) seenDefault.set(transition.from, transition);
  }
  return new Graph(new Map(actions), transitions);
}

function isAction(value: unknown): value is Action {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Action).runAndUpdate === 'function' &&
    'writes' in value
  );
}

function actionName(act: Action): string {
  const name = act.name;
  if (name === undefined) {
    throw new ValidationError(
      'withActions: an action without a name: pass { name: action }, or call withName(name).',
    );
  }
  return name;
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((name) => `'${name}'`).join(', ');
}
