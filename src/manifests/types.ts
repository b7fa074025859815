/** One file of a commit, as read from the Git tree. */
export interface SourceFile {
  /** Repo-relative POSIX path. */
  path: string;
  content: Uint8Array;
  /** Git file mode (e.g. 0o100755), when known; only renderers look at it. */
  mode?: number;
}

/** What identifies an object on the API server (plus the version it is written in). */
export interface ObjectId {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** '' when the manifest names none; defaulting happens later, with discovery. */
  namespace: string;
  name: string;
}

/** 1-based position in a repository file (or in a renderer's synthetic output file). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface Manifest {
  id: ObjectId;
  /** Plain JSON-compatible data, exactly what goes to the API server. */
  object: Record<string, unknown>;
  /** Where the object starts: its document, or its item in a List. */
  source: SourceLocation;
  /** sha256 hex of the canonical JSON (sorted keys) of `object`. */
  digest: string;
}

/** Caps that keep a hostile repository from exhausting memory or CPU. */
export interface Limits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxDocumentsPerFile: number;
  maxObjects: number;
  /** Alias dereferences per document, nested ones included. */
  maxAliases: number;
  /** Nesting of mappings and sequences in one document. */
  maxDepth: number;
}

export interface LoadOptions {
  /** Full commit sha; errors print the short form. */
  commit: string;
  /** When set, an object naming a namespace outside this list is an error. */
  allowedNamespaces?: string[];
  limits?: Partial<Limits>;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
