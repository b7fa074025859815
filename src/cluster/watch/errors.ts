import { TetherError } from '../../errors.ts';

/** The server no longer has the resourceVersion a watch or list continued from (410 Gone). */
export class WatchGoneError extends TetherError {}

/** A watch stream said something unexpected: an ERROR event, or a line that is not an event. */
export class WatchStreamError extends TetherError {}

/** The cache was stopped before (or while) a kind was being tracked. */
export class WatchStoppedError extends TetherError {}
