export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `.spec.template.metadata.labels["app.kubernetes.io/name"]`, `.spec.containers[0].image` */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return 'the top level';
  return path
    .map((segment) => {
      if (typeof segment === 'number') return `[${segment}]`;
      return IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
    })
    .join('');
}
