// The source layer: Git repositories (HTTPS or local) as the source of truth. Poll a ref
// with one request, fetch shallow into a bounded bare cache, read files straight from the
// object store, verify signatures, and write revert commits.
export type {
  SourceFile,
  Person,
  CommitInfo,
  SourceSpec,
  Snapshot,
  ReadOptions,
  VerifyPolicy,
  PollResult,
  Rewrite,
  RevertOptions,
  RevertResult,
  RevertAction,
  GitRequestKind,
} from './types.ts';
export { resolveCommit, readSnapshot, describeSource } from './snapshot.ts';
export { GitPoller } from './poll.ts';
export { revertCommit } from './revert.ts';
export * from './errors.ts';
