/**
 * The plan of a dag, apart from the loop that runs it: the nodes by id as they arrive, who
 * waits for an id that has not arrived yet, and the checks that make the nodes a graph
 * that can run (well-formed nodes, unique ids, known dependencies, no cycle). Nothing here
 * runs a task or knows what finished; everything is linear in nodes and dependencies, so
 * a graph of hundreds of thousands of nodes is planned in one pass.
 */
import { nodeName } from './describe.ts';
import { ValidationError } from './errors.ts';
import { maxGraphEdges, maxGraphNodes, type RunGraphEdge, type RunGraphNode } from './events.ts';

/**
 * The id of a dag node: a string, or a number (LLMCompiler numbers its tasks). Ids are
 * compared as a Map compares keys, so `1` and `'1'` are two different nodes.
 */
export type DagId = string | number;

/** What the plan reads of a node: its id and the ids it depends on. */
export interface PlannedNode {
  readonly id: DagId;
  readonly dependencies?: readonly DagId[] | undefined;
}

/**
 * The nodes of a dag by id, and the dependents of ids not arrived yet. `S` is what the
 * loop keeps of each node; the plan only holds it.
 */
export class DagPlan<S extends { readonly node: PlannedNode }> {
  readonly #byId = new Map<DagId, S>();
  /** Dependents waiting for ids that have not arrived yet (streamed input, or listed later). */
  readonly #awaited = new Map<DagId, S[]>();
  /** True once a node came before one of its dependencies: only then can there be a cycle. */
  #listedBeforeDependency = false;

  /** Nodes added so far. */
  get size(): number {
    return this.#byId.size;
  }

  get(id: DagId): S | undefined {
    return this.#byId.get(id);
  }

  values(): IterableIterator<S> {
    return this.#byId.values();
  }

  /**
   * Checks a node as it arrives, before it is added: an object with a valid id of its own
   * and an array of dependencies without itself.
   * @param position where it came in the input, for messages
   * @throws ValidationError naming the node and the fix
   */
  check(node: PlannedNode, position: number): void {
    checkNode(node, position);
    if (this.#byId.has(node.id)) {
      throw new ValidationError(
        `dag: two nodes have the id ${nodeName(node.id)}. Give every node a unique id.`,
      );
    }
  }

  /**
   * Adds a checked node. Returns the dependents that arrived before it and waited for its
   * id, for the loop to link, or undefined.
   */
  add(state: S): S[] | undefined {
    const { id } = state.node;
    this.#byId.set(id, state);
    if (this.#awaited.size === 0) return undefined;
    const earlier = this.#awaited.get(id);
    if (earlier) this.#awaited.delete(id);
    return earlier;
  }

  /**
   * Notes that `state` waits for `id`, which has not arrived. Returns false when that was
   * noted already (an id repeated in its dependencies), so that it is counted once.
   */
  awaitArrival(id: DagId, state: S): boolean {
    this.#listedBeforeDependency = true;
    const waiting = this.#awaited.get(id);
    if (!waiting) this.#awaited.set(id, [state]);
    // A repeated id: this node is the last one added to the list already.
    else if (waiting[waiting.length - 1] === state) return false;
    else waiting.push(state);
    return true;
  }

  /**
   * Checks a whole graph once every node of `list` was added: unknown dependencies, then
   * cycles. Nodes that all come after their dependencies cannot form a cycle, so the
   * search runs only when a node came before one.
   * @throws ValidationError naming the node, or the cycle, and the fix
   */
  checkComplete(list: readonly PlannedNode[]): void {
    if (this.#awaited.size > 0) {
      for (const node of list) {
        for (const dep of node.dependencies ?? []) {
          if (!this.#byId.has(dep)) throw unknownDependency(node.id, dep);
        }
      }
    }
    if (!this.#listedBeforeDependency) return;
    const cycle = findCycle(list);
    if (cycle) {
      throw new ValidationError(
        `dag: the nodes form a cycle ${cycle.join(' → ')}. Break the cycle.`,
      );
    }
  }

  /**
   * The nodes, in the order added, and their dependencies, as a `run:graph` event tells
   * them: each node named by `idOf`, each dependency an edge from the node depended on
   * (once, however often it is listed). Undefined for a graph over the event's bounds.
   */
  graph(idOf: (id: DagId) => string): { nodes: RunGraphNode[]; edges: RunGraphEdge[] } | undefined {
    if (this.#byId.size > maxGraphNodes) return undefined;
    let listed = 0;
    for (const { node } of this.#byId.values()) listed += node.dependencies?.length ?? 0;
    // Repeated dependencies count here: a bound on the work, not on the event alone.
    if (listed > maxGraphEdges) return undefined;
    const nodes: RunGraphNode[] = [];
    const edges: RunGraphEdge[] = [];
    for (const { node } of this.#byId.values()) {
      const to = idOf(node.id);
      nodes.push({ id: to, label: String(node.id) });
      for (const dependency of new Set(node.dependencies))
        edges.push({ from: idOf(dependency), to });
    }
    return { nodes, edges };
  }

  /** Once streamed input has ended: the error for a dependency that never arrived, if any. */
  missingDependency(): ValidationError | undefined {
    if (this.#awaited.size === 0) return undefined;
    const [missing, waiting] = this.#awaited.entries().next().value as [DagId, S[]];
    return unknownDependency(waiting[0]!.node.id, missing);
  }

  /**
   * The error for nodes that can never start: everything arrived, nothing runs, and they
   * still wait, which only a cycle among them explains.
   */
  stuck(waiting: readonly S[]): ValidationError {
    const cycle = findCycle(waiting.map((state) => state.node));
    return new ValidationError(
      `dag: nodes ${waiting.map((state) => nodeName(state.node.id)).join(', ')} can never start: ` +
        `${cycle ? `cycle ${cycle.join(' → ')}` : 'their dependencies wait on each other'}. Break the cycle.`,
    );
  }
}

function checkNode(node: PlannedNode, position: number): void {
  if (node === null || typeof node !== 'object') {
    throw new ValidationError(
      `dag: node #${position} is not an object; give { id, task, input?, dependencies? }.`,
    );
  }
  const { id } = node;
  if (!(typeof id === 'string' ? id.length > 0 : Number.isFinite(id))) {
    throw new ValidationError(
      `dag: node #${position} needs a non-empty string id or a finite number id.`,
    );
  }
  if (node.dependencies !== undefined && !Array.isArray(node.dependencies)) {
    throw new ValidationError(
      `dag: node ${nodeName(id)} has dependencies that are not an array of ids.`,
    );
  }
  if (node.dependencies?.includes(id)) {
    throw new ValidationError(
      `dag: node ${nodeName(id)} depends on itself. Remove it from its dependencies.`,
    );
  }
}

function unknownDependency(id: DagId, dependency: DagId): ValidationError {
  return new ValidationError(
    `dag: node ${nodeName(id)} depends on ${nodeName(dependency)}, which is not a node. ` +
      'Add that node or remove the dependency.',
  );
}

/**
 * A cycle among `nodes` as a list of ids (first repeated last), or undefined; dependencies
 * on ids not among `nodes` are ignored. Depth-first, in node then dependency order, with
 * its own stack (a chain of any length cannot overflow the call stack) in typed arrays:
 * linear in nodes and dependencies.
 */
function findCycle(nodes: readonly PlannedNode[]): DagId[] | undefined {
  const n = nodes.length;
  const at = new Map<DagId, number>();
  for (let i = 0; i < n; i++) at.set(nodes[i]!.id, i);
  const color = new Uint8Array(n); // 0: not seen, 1: on the current path, 2: finished
  const path = new Int32Array(n); // positions of the nodes on the current path
  const next = new Int32Array(n); // for each node on the path, its next dependency to follow
  for (let start = 0; start < n; start++) {
    if (color[start] !== 0) continue;
    let depth = 0;
    path[0] = start;
    next[0] = 0;
    color[start] = 1;
    while (depth >= 0) {
      const i = path[depth]!;
      const deps = nodes[i]!.dependencies;
      if (deps === undefined || next[depth]! >= deps.length) {
        color[i] = 2;
        depth--;
        continue;
      }
      const j = at.get(deps[next[depth]!++]!);
      if (j === undefined || color[j] === 2) continue;
      if (color[j] === 1) {
        let from = depth;
        while (path[from] !== j) from--;
        const cycle: DagId[] = [];
        for (let k = from; k <= depth; k++) cycle.push(nodes[path[k]!]!.id);
        cycle.push(nodes[j]!.id);
        return cycle;
      }
      color[j] = 1;
      path[++depth] = j;
      next[depth] = 0;
    }
  }
  return undefined;
}
