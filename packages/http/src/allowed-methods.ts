/**
 * The methods an express app routes for a path, read from its router stack (the same walk the
 * router does to answer OPTIONS). Express has no public API for this; the walk uses the fields the
 * router itself documents on Layer (`match`, `route`, `handle.stack`) and Route (`methods`).
 */
interface RouteLike { methods: Record<string, boolean | undefined> }
interface LayerLike {
  route?: RouteLike;
  handle?: { stack?: LayerLike[] };
  match(path: string): false | { path: string };
}

export function allowedMethods(app: unknown, path: string): string[] {
  const router = (app as { router?: { stack?: LayerLike[] } }).router;
  const found = new Set<string>();
  if (router?.stack) walk(router.stack, path, found);
  if (found.has('GET')) found.add('HEAD');
  return [...found].sort();
}

function walk(stack: LayerLike[], path: string, found: Set<string>): void {
  for (const layer of stack) {
    let m: false | { path: string };
    try {
      m = layer.match(path);
    } catch {
      continue; // a malformed percent-encoding in a parameter: this layer does not route it
    }
    if (!m) continue;
    if (layer.route) {
      for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') found.add(method.toUpperCase());
    } else if (layer.handle?.stack) {
      const rest = path.slice(m.path.length);
      walk(layer.handle.stack, rest.startsWith('/') ? rest : `/${rest}`, found);
    }
  }
}
