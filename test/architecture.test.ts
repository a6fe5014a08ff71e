// The shape of src/ as a whole: no module takes part in an import cycle, so each layer can be
// read (and loaded) from the bottom up.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const srcRoot = fileURLToPath(new URL("../src/", import.meta.url));
const repoRoot = fileURLToPath(new URL("../", import.meta.url));

/** Prisma writes src/store/generated: its internal imports are not relengd's design. */
const GENERATED = path.join(srcRoot, "store", "generated");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return full === GENERATED ? [] : sourceFiles(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

// Static (`from "./x.js"`, `import "./x.js"`, type-only included) and dynamic (`import("./x.js")`)
// imports of relative paths; a type-only cycle still couples the two modules' designs.
const RELATIVE_IMPORT = /(?:\bfrom\s+|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;

/** A relative specifier resolved to the .ts file it names, or undefined when none exists. */
function resolveImport(from: string, specifier: string, files: Set<string>): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, ".ts"), `${base}.ts`, path.join(base, "index.ts")];
  return candidates.find((c) => files.has(c));
}

/** Each module under src/ (relative to the repository) with the modules it imports. */
function importGraph(root: string): Map<string, string[]> {
  const files = sourceFiles(root);
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const targets = new Set<string>();
    for (const m of text.matchAll(RELATIVE_IMPORT)) {
      const target = resolveImport(file, m[1] ?? "", known);
      if (target) targets.add(path.relative(repoRoot, target));
    }
    graph.set(path.relative(repoRoot, file), [...targets].sort());
  }
  return graph;
}

/**
 * The import cycles of `graph`: each strongly connected component of more than one module (or a
 * module importing itself), as one cycle through it, starting at its first module by name.
 */
function importCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm, iterative so that a deep chain of imports cannot overflow the stack.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = graph.get(frame.node) ?? [];
      if (frame.next < edges.length) {
        const to = edges[frame.next++]!;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfImport = (graph.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfImport) components.push(component.sort());
      }
    }
  }
  return components.map((c) => cycleThrough(graph, c)).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** One cycle inside a strongly connected component, found breadth-first from its first module. */
function cycleThrough(graph: Map<string, string[]>, component: string[]): string[] {
  const members = new Set(component);
  const first = component[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [first];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const to of graph.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === first) {
        const cycle = [node];
        while (cycle[0] !== first) cycle.unshift(cameFrom.get(cycle[0]!)!);
        return [...cycle, first];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return component;
}

describe("import cycles in src/", () => {
  it("finds a cycle and names its modules in import order", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts", "d.ts"]],
      ["d.ts", []],
      ["e.ts", ["e.ts"]],
      ["f.ts", ["d.ts"]],
    ]);
    expect(importCycles(graph)).toEqual([
      ["a.ts", "b.ts", "c.ts", "a.ts"],
      ["e.ts", "e.ts"],
    ]);
  });

  it("finds none in a graph without one", () => {
    expect(importCycles(new Map([["a.ts", ["b.ts"]], ["b.ts", []], ["c.ts", ["a.ts", "b.ts"]]]))).toEqual([]);
  });

  it("reads relative imports of every kind, type-only and dynamic included", () => {
    const graph = importGraph(srcRoot);
    expect(graph.get("src/auth/oidc.ts")).toContain("src/auth/tokens.ts");
    // `import type { … }` and `await import("…")` are imports too.
    expect([...graph.values()].flat().length).toBeGreaterThan(graph.size);
  });

  it("has none", () => {
    const cycles = importCycles(importGraph(srcRoot));
    expect(cycles.map((c) => c.join(" → ")), "import cycles").toEqual([]);
  });
});
